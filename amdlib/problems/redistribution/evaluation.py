"""Running a fixed mechanism on many profiles: audits, worst case, paired comparisons.

A *mechanism* here is a function ``profiles (P, n) -> dict`` of the harness's
outputs (``rebates``, ``raw``, ``scale``). Trusted rules (linear baselines, the
network) run in-process through the harness's own :func:`mechanism`; evolved
code runs in the sandbox through the Evaluator, in parallel chunks. Either way the same fix is applied.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

import numpy as np

from amdlib.problems.redistribution.fix import TOL
from amdlib.problems.redistribution.harness import mechanism
from amdlib.problems.redistribution.model import n_queries, path_index, sample_profiles, vcg_revenue

Mechanism = Callable[[np.ndarray], dict[str, np.ndarray]]

#: Query vectors per sandbox job (bounds a job's memory, output and time). Each job is a fresh
#: process that first-touches its working memory, so fewer, larger jobs cost less per profile
#: (at 4M a 10x5 audit job is about 25% cheaper per profile than at 2M); results do not depend on it.
JOB_QUERIES = 4_000_000


def chunk_size(n: int) -> int:
    """Profiles per job for ``n`` bidders."""
    return max(500, JOB_QUERIES // n_queries(n))


def rule_mechanism(fn: Callable[..., Any], n: int, m: int, fixed: bool = True) -> Mechanism:
    """A trusted rebate rule ``fn(others, n, m)`` as a mechanism (runs in-process).

    ``fixed=False`` pays the rule as it is (for rules already IR and non-deficit, such as BC, WCO, OEL).
    """

    def run(profiles: np.ndarray) -> dict[str, np.ndarray]:
        if not fixed:
            others = profiles[:, path_index(n).others - 1]  # (P, n, n-1)
            h = np.asarray(fn(others.reshape(-1, n - 1), n, m), dtype=float).reshape(profiles.shape)
            return {"raw": h, "rebates": h, "scale": np.ones_like(h)}
        step = chunk_size(n)
        parts = [mechanism(fn, {"profiles": profiles[i : i + step], "n": np.array(n), "m": np.array(m)})
                 for i in range(0, profiles.shape[0], step)]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    return run


def code_mechanism(evaluator: Any, code: str) -> Mechanism:
    """Evolved ``code`` as a mechanism of ``evaluator.problem`` (a :class:`RedistributionProblem`):
    chunks of profiles run through the Evaluator, in parallel sandbox jobs of the scoring harness."""
    from amdlib.core.evaluator import payload_digest

    n, m = evaluator.problem.n, evaluator.problem.m

    def run(profiles: np.ndarray) -> dict[str, np.ndarray]:
        chunks = []
        for i in range(0, profiles.shape[0], chunk_size(n)):
            payload = {"profiles": np.ascontiguousarray(profiles[i : i + chunk_size(n)]), "n": np.array(n), "m": np.array(m)}
            chunks.append((payload, f"redistribution-audit-{payload_digest(payload)}"))
        outputs = evaluator.outputs_many(code, chunks)
        return {k: np.concatenate([o[k] for o in outputs]) for k in outputs[0]}

    return run


def adversarial_profiles(n: int, levels: int = 0) -> np.ndarray:
    """Every sorted profile over a level grid containing 0 and 1 (ties, zeros, ones, equal bids).

    ``levels`` defaults to the most that keeps the count near 20,000 profiles.
    """
    if levels <= 0:
        levels = 2
        while _multisets(levels + 1, n) <= 20_000 and levels < 41:
            levels += 1
    grid = np.linspace(1.0, 0.0, levels)
    combos = np.array(list(itertools.combinations_with_replacement(range(levels), n)))
    return grid[combos]


def _multisets(levels: int, n: int) -> int:
    from math import comb

    return comb(levels + n - 1, n)


def audit(mech: Mechanism, n: int, m: int, count: int, distribution: str, seed: int) -> dict[str, Any]:
    """Deficits and negative rebates on ``count`` random profiles and on the adversarial grid."""
    rng = np.random.default_rng([seed, n, m, 4])
    out: dict[str, Any] = {"deficits": 0, "negative_rebates": 0, "max_deficit": 0.0,
                           "random_profiles": 0, "adversarial_profiles": 0}

    def check(kind: str, profiles: np.ndarray) -> None:
        revenue = vcg_revenue(profiles, m)
        rebates = mech(profiles)["rebates"]
        excess = rebates.sum(axis=1) - revenue
        out["deficits"] += int(np.count_nonzero(excess > TOL * np.maximum(1.0, revenue)))
        out["negative_rebates"] += int(np.count_nonzero(rebates < -TOL))
        out["max_deficit"] = max(out["max_deficit"], float(max(0.0, excess.max())))
        out[f"{kind}_profiles"] += int(profiles.shape[0])

    remaining = int(count)
    while remaining > 0:  # batches bound the memory of the outputs
        size = min(remaining, 200_000)
        remaining -= size
        check("random", sample_profiles(rng, size, n, distribution))
    check("adversarial", adversarial_profiles(n))
    return out


def worst_case(mech: Mechanism, n: int, m: int, seed: int, random_profiles: int = 20_000, rounds: int = 3) -> dict[str, Any]:
    """Smallest fraction ``sum r / R`` found on the adversarial grid, random profiles and local search.

    Profiles with revenue below 1e-6 are skipped (the fraction is undefined there).
    """
    rng = np.random.default_rng([seed, n, m, 5])
    pool = np.concatenate([adversarial_profiles(n), sample_profiles(rng, random_profiles, n)])
    best_frac, best_profile = np.inf, None
    for r in range(rounds + 1):
        rev = vcg_revenue(pool, m)
        keep = rev > 1e-6
        pool, rev = pool[keep], rev[keep]
        frac = mech(pool)["rebates"].sum(axis=1) / rev
        order = np.argsort(frac)
        if frac[order[0]] < best_frac:
            best_frac, best_profile = float(frac[order[0]]), pool[order[0]]
        if r == rounds:
            break
        seeds = pool[order[:50]]  # perturb the worst profiles and look again
        noise = rng.normal(0.0, 0.05 / (r + 1), (40,) + seeds.shape)
        pool = -np.sort(-np.clip(seeds[None] + noise, 0.0, 1.0).reshape(-1, n), axis=1)
    return {"worst_case_fraction": best_frac, "worst_profile": [round(float(v), 4) for v in best_profile]}


def totals(mech: Mechanism, profiles: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per-profile total rebate after the fix, and the raw outputs."""
    res = mech(profiles)
    return res["rebates"].sum(axis=1), res
