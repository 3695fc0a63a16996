"""Build the proposer a run's config asks for: ``offline``, ``openai`` or ``replay``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amdlib.core.problem import Problem
from amdlib.core.proposers.base import Proposer
from amdlib.errors import UserError

if TYPE_CHECKING:  # the engine imports this module when a search starts
    from amdlib.core.engine import SearchConfig

PROPOSER_NAMES = ("offline", "openai", "replay")
DEFAULT_CONCURRENCY = 4


def make_proposer(config: "SearchConfig", problem: Problem, *, max_tokens: int | None = None) -> Proposer:
    """The proposer named by ``config.proposer``.

    ``offline``: the AST mutator (no LLM). ``openai``: an OpenAI-compatible
    endpoint, recording every exchange to ``config.cassette`` when it is set.
    ``replay``: answers from ``config.cassette`` with no endpoint; it stops
    where the recording was stopped by a budget.
    ``max_tokens`` overrides the completion cap of LLM proposers. The LLM
    knobs (``concurrency``, ``request_timeout_s``, ``retries``, ``backoff_s``,
    ``max_tokens``, ``price_in``/``price_out``) come from the config.
    """
    kind = str(config.proposer)
    cassette = str(config.cassette)
    max_calls = int(config.max_llm_calls)
    max_cost = float(config.max_cost_usd)
    if kind == "offline":
        from amdlib.core.proposers.offline import OfflineProposer

        return OfflineProposer(problem)
    if kind == "openai":
        from amdlib.core.proposers.cassette import RecordingProposer
        from amdlib.core.proposers.openai_client import OpenAIProposer

        inner = OpenAIProposer(
            model=str(config.model),
            base_url=str(config.base_url),
            temperature=float(config.temperature),
            max_tokens=int(max_tokens or config.max_tokens),
            concurrency=int(config.concurrency) or DEFAULT_CONCURRENCY,
            max_llm_calls=max_calls,
            max_cost_usd=max_cost,
            timeout_s=float(config.request_timeout_s),
            max_retries=int(config.retries),
            backoff_s=float(config.backoff_s),
            price_in=float(config.price_in),
            price_out=float(config.price_out),
        )
        return RecordingProposer(inner, cassette) if cassette else inner
    if kind == "replay":
        from amdlib.core.proposers.cassette import ReplayProposer

        if not cassette:
            raise UserError("proposer replay needs a cassette: set the cassette parameter to a recorded .jsonl file")
        return ReplayProposer(cassette)  # the cassette itself records where a budget stopped the run
    raise UserError(f"unknown proposer {kind!r}: choose one of {', '.join(PROPOSER_NAMES)}")


def proposer_ledger(proposer: Proposer) -> dict[str, Any]:
    """A proposer's ledger as a dict ({} for proposers that keep none, e.g. offline)."""
    return dict(proposer.ledger)
