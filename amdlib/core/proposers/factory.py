"""Build the proposer a run's config asks for: ``offline``, ``openai`` or ``replay``."""

from __future__ import annotations

from typing import Any

from amdlib.core.problem import Problem
from amdlib.core.proposers.base import Proposer
from amdlib.errors import UserError

PROPOSER_NAMES = ("offline", "openai", "replay")
DEFAULT_CONCURRENCY = 4


def _opt(config: Any, name: str, default: Any) -> Any:
    """A config field, or ``default`` when the config does not have it (or it is None)."""
    value = getattr(config, name, default)
    return default if value is None else value


def make_proposer(config: Any, problem: Problem, *, max_tokens: int | None = None) -> Proposer:
    """The proposer named by ``config.proposer``.

    ``offline``: the AST mutator (no LLM). ``openai``: an OpenAI-compatible
    endpoint, recording every exchange to ``config.cassette`` when it is set.
    ``replay``: answers from ``config.cassette`` with no endpoint; it stops
    where the recording was stopped by a budget.
    ``max_tokens`` overrides the completion cap of LLM proposers. The LLM
    knobs (``concurrency``, ``request_timeout_s``, ``retries``, ``backoff_s``,
    ``max_tokens``, ``price_in``/``price_out``) come from the config.
    """
    kind = str(_opt(config, "proposer", "offline"))
    cassette = str(_opt(config, "cassette", ""))
    max_calls = int(_opt(config, "max_llm_calls", 0))
    max_cost = float(_opt(config, "max_cost_usd", 0.0))
    if kind == "offline":
        from amdlib.core.proposers.offline import OfflineProposer

        return OfflineProposer(problem)
    if kind == "openai":
        from amdlib.core.proposers.cassette import RecordingProposer
        from amdlib.core.proposers.openai_client import (
            DEFAULT_MAX_TOKENS,
            DEFAULT_RETRIES,
            DEFAULT_TIMEOUT_S,
            OpenAIProposer,
        )

        inner = OpenAIProposer(
            model=str(_opt(config, "model", "")),
            base_url=str(_opt(config, "base_url", "")),
            temperature=float(_opt(config, "temperature", 1.0)),
            max_tokens=int(max_tokens or _opt(config, "max_tokens", DEFAULT_MAX_TOKENS)),
            concurrency=int(_opt(config, "concurrency", DEFAULT_CONCURRENCY)) or DEFAULT_CONCURRENCY,
            max_llm_calls=max_calls,
            max_cost_usd=max_cost,
            timeout_s=float(_opt(config, "request_timeout_s", DEFAULT_TIMEOUT_S)),
            max_retries=int(_opt(config, "retries", DEFAULT_RETRIES)),
            backoff_s=float(_opt(config, "backoff_s", 1.0)),
            price_in=float(_opt(config, "price_in", -1.0)),
            price_out=float(_opt(config, "price_out", -1.0)),
        )
        return RecordingProposer(inner, cassette) if cassette else inner
    if kind == "replay":
        from amdlib.core.proposers.cassette import ReplayProposer

        if not cassette:
            raise UserError("proposer replay needs a cassette: set the cassette parameter to a recorded .jsonl file")
        return ReplayProposer(cassette)  # the cassette itself records where a budget stopped the run
    raise UserError(f"unknown proposer {kind!r}: choose one of {', '.join(PROPOSER_NAMES)}")


def proposer_ledger(proposer: Any) -> dict[str, Any]:
    """A proposer's ledger as a dict ({} for proposers that keep none, e.g. offline)."""
    ledger = getattr(proposer, "ledger", None)
    return dict(ledger) if isinstance(ledger, dict) else {}
