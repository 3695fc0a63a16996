"""FunSearch: islands of programs clustered by behaviour, best-shot prompts, island resets.

Each island groups its programs into clusters by ``problem.signature``. A
prompt draws ``functions_per_prompt`` (2) clusters by softmax over their scores
at a temperature that decays linearly from ``temperature_init`` (0.1) over
``temperature_period`` (30000) programs of the island, then one program per
cluster (shorter programs preferred), and shows them as versions ``f_v0,
f_v1, ...`` in ascending score. Every ``reset_every`` samples the weaker half
of the islands is emptied and reseeded with the best program of a surviving
island. Counting in samples instead of FunSearch's wall-clock hours keeps runs
reproducible. The AMD-LLM paper resets every hour; its samples per hour are not
reported, so the default period is a quarter of the budget (resets after 25%,
50% and 75% of the samples), a few resets per run as an hourly period gives.

Deviation, for scale invariance: by default (``score_scale="rank"``) cluster
scores enter the softmax as dense ranks scaled to [0, 1], because fitness
scales differ by orders of magnitude between problems (revenues differ in the
third decimal, FunSearch's cap-set sizes by integers); ``score_scale="raw"``
uses the scores as FunSearch does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from amdlib.core.program import Program, ProposalRequest
from amdlib.core.search import prompts
from amdlib.core.search.base import Strategy, sort_key


def softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Numerically stable softmax of ``logits / temperature``."""
    z = np.asarray(logits, dtype=float) / max(temperature, 1e-12)
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


def dense_rank01(scores: np.ndarray) -> np.ndarray:
    """Dense ranks of ``scores`` scaled to [0, 1] (all zeros when they are all equal)."""
    unique = np.unique(scores)
    if len(unique) < 2:
        return np.zeros(len(scores))
    return np.searchsorted(unique, scores) / (len(unique) - 1)


@dataclass
class Cluster:
    """Programs of one island sharing a signature; their common score is the cluster's score."""

    score: float
    programs: list[Program] = field(default_factory=list)

    def sample(self, rng: np.random.Generator) -> Program:
        """A program, shorter ones more likely (softmax of minus the normalised length)."""
        lengths = np.array([len(p.code) for p in self.programs], dtype=float)
        normalized = (lengths - lengths.min()) / (lengths.max() + 1e-6)
        return self.programs[int(rng.choice(len(self.programs), p=softmax(-normalized, 1.0)))]


@dataclass
class Island:
    """A sub-population evolving on its own."""

    clusters: dict[tuple[float, ...], Cluster] = field(default_factory=dict)
    num_programs: int = 0
    best: Program | None = None
    hashes: set[str] = field(default_factory=set)

    def register(self, program: Program, signature: tuple[float, ...]) -> None:
        """Add a valid program (an exact copy of a program already here is skipped)."""
        if program.code_hash in self.hashes:
            return
        self.hashes.add(program.code_hash)
        self.clusters.setdefault(signature, Cluster(program.score)).programs.append(program)
        self.num_programs += 1
        if self.best is None or sort_key(program) < sort_key(self.best):
            self.best = program

    @property
    def best_score(self) -> float:
        return self.best.score if self.best is not None else -math.inf


class FunSearch(Strategy):
    """FunSearch's island model, driven in deterministic batches of ``batch_size`` samples."""

    method = "funsearch"

    def __init__(self, problem: Any, *, islands: int = 10, functions_per_prompt: int = 2,
                 temperature_init: float = 0.1, temperature_period: int = 30_000, reset_every: int = 0,
                 score_scale: str = "rank", **kwargs: Any) -> None:
        super().__init__(problem, **kwargs)
        if score_scale not in ("rank", "raw"):
            raise ValueError(f"score_scale must be 'rank' or 'raw', not {score_scale!r}")
        self.n_islands = max(1, int(islands))
        self.functions_per_prompt = max(1, int(functions_per_prompt))
        self.temperature_init = float(temperature_init)
        self.temperature_period = max(1, int(temperature_period))
        # 0 means: a quarter of the budget, so a run sees a few resets.
        self.reset_every = int(reset_every) if reset_every and reset_every > 0 else max(1, self.max_evaluations // 4)
        self.score_scale = score_scale
        self.islands: list[Island] = []
        self._told = 0
        self._resets_done = 0
        self._island_of: dict[int, int] = {}  # sample index -> island that asked
        self.reset_log: list[dict[str, Any]] = []

    def initialize(self, seed_program: Program) -> None:
        super().initialize(seed_program)
        self.islands = [Island() for _ in range(self.n_islands)]
        for island in self.islands:
            self._register(island, seed_program)

    def _register(self, island: Island, program: Program) -> None:
        if program.valid and math.isfinite(program.score):
            island.register(program, tuple(self.problem.signature(program.evaluation)))

    # ----------------------------------------------------------------- prompts
    def temperature(self, island: Island) -> float:
        """Cluster-sampling temperature: linear decay from ``temperature_init``, periodic."""
        return self.temperature_init * (1 - (island.num_programs % self.temperature_period) / self.temperature_period)

    def sample_parents(self, island: Island) -> list[Program]:
        """Best-shot parents from ``island``, sorted by ascending score."""
        if not island.clusters:
            assert self.seed_program is not None
            return [self.seed_program]
        signatures = sorted(island.clusters)  # a fixed order keeps sampling reproducible
        scores = np.array([island.clusters[s].score for s in signatures])
        logits = dense_rank01(scores) if self.score_scale == "rank" else scores
        probs = softmax(logits, self.temperature(island))
        k = min(len(signatures), self.functions_per_prompt)
        chosen = self.rng.choice(len(signatures), size=k, replace=False, p=probs)
        parents = [island.clusters[signatures[int(i)]].sample(self.rng) for i in chosen]
        return sorted(parents, key=lambda p: (p.score, -p.id))

    def ask(self, limit: int) -> list[ProposalRequest]:
        requests = []
        for _ in range(min(limit, self.batch_size)):
            island_id = int(self.rng.integers(self.n_islands))
            parents = self.sample_parents(self.islands[island_id])
            messages = prompts.funsearch_messages(self.problem, parents)
            req = self.request("funsearch", parents, messages, island=island_id)
            self._island_of[req.index] = island_id
            requests.append(req)
        return requests

    def tell(self, programs: list[Program]) -> None:
        for program in programs:
            self._told += 1
            # Results are applied in index order; the island is the one that asked.
            island_id = self._island_of.pop(program.sample_index, None)
            if island_id is not None:
                self._register(self.islands[island_id], program)
            if self._told // self.reset_every > self._resets_done:
                self._resets_done += 1
                self.reset_islands()


    # ------------------------------------------------------------------ resets
    def reset_islands(self) -> None:
        """Empty the weaker half of the islands; reseed each from a surviving island's best."""
        n = self.n_islands
        if n < 2:
            return
        # Tiny noise breaks ties between equally good islands (as FunSearch does), reproducibly.
        best = np.array([island.best_score for island in self.islands])
        best = np.where(np.isfinite(best), best, -1e300)
        order = np.lexsort((self.rng.random(n), best))  # ascending score, random tie order
        weak, keep = order[: n // 2], order[n // 2:]
        founders = []
        for i in weak:
            founder_island = int(keep[int(self.rng.integers(len(keep)))])
            founder = self.islands[founder_island].best or self.seed_program
            assert founder is not None
            self.islands[int(i)] = Island()
            self._register(self.islands[int(i)], founder)
            founders.append({"island": int(i), "from": founder_island, "program": founder.id})
        self.reset_log.append({"after_samples": self._told, "reset": founders})

    def stats(self) -> dict[str, Any]:
        return {
            "islands": [{"programs": isl.num_programs, "clusters": len(isl.clusters),
                         "best": isl.best.id if isl.best else None} for isl in self.islands],
            "resets": self.reset_log,
            "reset_every": self.reset_every,
        }

