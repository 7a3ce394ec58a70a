// filled in by the llm module
export {};
