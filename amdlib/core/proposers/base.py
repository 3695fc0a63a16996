"""The proposer interface shared by the offline mutator and the LLM clients."""

from __future__ import annotations

from typing import Any, Mapping, Protocol, runtime_checkable

from amdlib.core.program import Proposal, ProposalRequest


@runtime_checkable
class Proposer(Protocol):
    """Turns a proposal request into text containing a candidate function.

    ``seed`` is derived from the run seed and ``request.index``: the same
    request and seed must give the same proposal (LLM proposers pass it on as
    the sampling seed where the endpoint supports it, and the cassette makes
    replays exact regardless).

    What the engine uses, and nothing else:

    - ``name``: recorded with the run (``offline``, ``openai``, ``replay``).
    - ``writes_prose``: the answers are a language model's (an idea in prose, then code): the
      engine then sends a batch's requests concurrently, lets eoh-e evolve prompt strategies,
      and fails a search in which no answer gave usable code.
    - ``ledger``: calls, tokens and estimated cost so far (empty for a proposer without an LLM).
    - ``admit(request, seed)``: reserve the budget of ``request`` before anything is sent (in
      index order, so which requests get the last slots never depends on thread timing);
      False when a budget refuses it.
    """

    name: str
    writes_prose: bool

    @property
    def ledger(self) -> Mapping[str, Any]:
        ...

    def admit(self, request: ProposalRequest, seed: int) -> bool:
        ...

    def propose(self, request: ProposalRequest, seed: int) -> Proposal:
        ...

    def close(self) -> None:
        ...
