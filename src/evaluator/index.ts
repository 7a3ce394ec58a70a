// filled in by the evaluator module
export {};
