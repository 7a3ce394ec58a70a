// filled in by the metrics module
export {};
