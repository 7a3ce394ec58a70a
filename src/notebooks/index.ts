// filled in by the notebooks module
export {};
