"""Proposers write candidate code: offline AST mutation, OpenAI-compatible LLMs, cassette replay."""
