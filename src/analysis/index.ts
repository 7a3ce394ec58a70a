// filled in by the analysis module
export {};
