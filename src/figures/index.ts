// filled in by the figures module
export {};
