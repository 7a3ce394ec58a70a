// filled in by the lm module
export {};
