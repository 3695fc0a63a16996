"""The proposer interface shared by the offline mutator and the LLM clients."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from amdlib.core.program import Proposal, ProposalRequest


@runtime_checkable
class Proposer(Protocol):
    """Turns a proposal request into text containing a candidate function.

    ``seed`` is derived from the run seed and ``request.index``: the same
    request and seed must give the same proposal (LLM proposers pass it on as
    the sampling seed where the endpoint supports it, and the cassette makes
    replays exact regardless).
    """

    name: str

    def propose(self, request: ProposalRequest, seed: int) -> Proposal:
        ...

    def close(self) -> None:
        ...
