"""The ask/tell interface every search strategy implements, and shared helpers.

The engine drives a strategy in deterministic batches:

1. ``ask(limit)`` returns up to ``limit`` proposal requests, numbered with
   consecutive global sample indices (0, 1, 2, ...);
2. the engine gets one text per request from the proposer (seeded by
   :func:`request_seed`), evaluates the batch in parallel and builds one
   :class:`Program` per request;
3. ``tell(programs)`` hands them back in index order.

Nothing depends on timing, so a run is reproducible given its seed and the
proposer's answers. Strategies that also need free text from the proposer
(eoh-e's prompt strategies) return such requests from ``ask_texts`` and get the
answers through ``tell_texts`` before the next ``ask``.
"""

from __future__ import annotations

import hashlib
import math
from abc import ABC, abstractmethod
from typing import Any, Sequence

import numpy as np

from amdlib.core.problem import Problem
from amdlib.core.program import Program, ProposalRequest


def request_seed(run_seed: int, index: int) -> int:
    """The proposer seed of request ``index``: a stable 31-bit hash of (run seed, index)."""
    digest = hashlib.sha256(f"amdlib:{int(run_seed)}:{int(index)}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def make_rng(run_seed: int, salt: str) -> np.random.Generator:
    """A numpy generator for one purpose of a run (independent streams per ``salt``)."""
    digest = hashlib.sha256(f"{salt}:{int(run_seed)}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def sort_key(program: Program) -> tuple[float, int]:
    """Best first: higher score, then the earlier program (deterministic ties)."""
    score = program.score if program.valid and math.isfinite(program.score) else -math.inf
    return (-score, program.id)


def rank_select(rng: np.random.Generator, ranked: Sequence[Any], k: int) -> list[Any]:
    """EoH parent selection: pick ``k`` distinct items, P(rank r) proportional to 1 / (r + N).

    ``ranked`` is sorted best first (rank 0); N is its length. When fewer than
    ``k`` items exist, picks repeat (with replacement) so callers always get ``k``.
    """
    n = len(ranked)
    if n == 0:
        return []
    weights = 1.0 / (np.arange(n) + n)
    if k <= n:
        idx = rng.choice(n, size=k, replace=False, p=weights / weights.sum())
    else:
        idx = rng.choice(n, size=k, replace=True, p=weights / weights.sum())
    return [ranked[int(i)] for i in idx]


class Strategy(ABC):
    """A search strategy: it decides which requests to make and what to keep.

    Subclasses implement :meth:`initialize`, :meth:`ask` and :meth:`tell`;
    :meth:`request` numbers requests. ``stats()`` goes into the result.
    """

    #: The ``method`` name (search_params' ``method``).
    method: str = ""

    def __init__(self, problem: Problem, *, seed: int = 0, pop_size: int = 16, batch_size: int = 8,
                 max_evaluations: int = 200, **options: Any) -> None:
        self.problem = problem
        self.seed = int(seed)
        self.pop_size = int(pop_size)
        self.batch_size = max(1, int(batch_size))
        self.max_evaluations = int(max_evaluations)
        self.options = options
        self.rng = make_rng(self.seed, f"strategy:{self.method}")
        self.seed_program: Program | None = None
        self._next_index = 0
        #: Whether the proposer can write prose (eoh-e asks it for prompt strategies).
        self.proposer_writes_prose = False

    @property
    def samples_requested(self) -> int:
        """How many request indices have been handed out so far."""
        return self._next_index

    def request(self, operator: str, parents: list[Program], messages: list[dict[str, str]],
                instruction: str = "", **metadata: Any) -> ProposalRequest:
        """A new request with the next global sample index."""
        req = ProposalRequest(index=self._next_index, operator=operator, parents=list(parents),
                              messages=messages, instruction=instruction, metadata=dict(metadata))
        self._next_index += 1
        return req

    def initialize(self, seed_program: Program) -> None:
        """Receive the evaluated seed program before the first ``ask``."""
        self.seed_program = seed_program

    @abstractmethod
    def ask(self, limit: int) -> list[ProposalRequest]:
        """Up to ``limit`` (>= 1) requests for candidate programs; empty when the strategy is done."""

    @abstractmethod
    def tell(self, programs: list[Program]) -> None:
        """The programs built from the last ``ask`` (possibly a prefix of it), in index order."""

    def ask_texts(self) -> list[ProposalRequest]:
        """Requests whose answer is free text, not a program (none by default)."""
        return []

    def tell_texts(self, requests: list[ProposalRequest], texts: list[str]) -> None:
        """Answers to :meth:`ask_texts`, in order."""

    def stats(self) -> dict[str, Any]:
        """JSON-able, deterministic facts about the search (e.g. resets, strategy history)."""
        return {}
