"""Helpers for strategy tests: synthetic programs and a driver with a fake evaluation."""

from __future__ import annotations

import math
from typing import Callable

from amdlib.core.problem import Evaluation
from amdlib.core.program import Program, ProposalRequest
from amdlib.core.search.base import Strategy


def program(pid: int, score: float | None, code: str | None = None, **kw) -> Program:
    """A program with ``score`` (None: invalid)."""
    ev = Evaluation.failed("test: invalid") if score is None else Evaluation(True, float(score))
    code = code if code is not None else f"def fit(x):\n    return {pid}\n"
    return Program(id=pid, code=code, code_hash=f"h{code}", evaluation=ev, **kw)


ScoreFn = Callable[[ProposalRequest], "float | None"]


def drive(strategy: Strategy, budget: int, score_fn: ScoreFn, seed_score: float = -1.0) -> list[Program]:
    """Run ``strategy`` like the engine does, scoring each request with ``score_fn``."""
    history = [program(0, seed_score, operator="seed")]
    strategy.initialize(history[0])
    while len(history) - 1 < budget:
        strategy.ask_texts()
        requests = strategy.ask(budget - (len(history) - 1))
        if not requests:
            break
        batch = []
        for req in requests:
            score = score_fn(req)
            pid = len(history)
            p = program(pid, score, code=f"def fit(x):\n    return {pid}\n", operator=req.operator,
                        parents=tuple(q.id for q in req.parents), sample_index=req.index,
                        generation=int(req.metadata.get("generation", 0)))
            history.append(p)
            batch.append(p)
        strategy.tell(batch)
    return history


def best_score(history: list[Program]) -> float:
    return max(p.score for p in history if p.valid and math.isfinite(p.score))


def improving_score(noise_rng_seed: int = 0) -> ScoreFn:
    """A fake evaluation: a child scores its best parent's score plus a seeded step (mostly down)."""
    import numpy as np

    def fn(req: ProposalRequest) -> float | None:
        rng = np.random.default_rng([noise_rng_seed, req.index])
        base = max((p.score for p in req.parents if p.valid), default=-1.0)
        if rng.random() < 0.1:
            return None
        return base + float(rng.normal(-0.02, 0.05))

    return fn
