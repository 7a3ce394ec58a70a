// filled in by the align module
export {};
