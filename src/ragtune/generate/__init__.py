"""Generation: backends (transformers, llama.cpp, OpenAI-compatible), prompts, citations."""
