"""Experiment 5 benchmark: a learned mechanism evaluated with regret at n = 200, and the exact DPs.

The evaluation is the study's: the code runs in the sandbox (Experiment 4's harness, deviation profiles built in blocks), Experiment 4's
scorer computes social cost and the regret from 10 misreports per agent and profile
(n * 10 * B one-agent deviation profiles, 2 million at B = 1000).
"""

from __future__ import annotations

import time

import numpy as np

from amdlib.benchmarks import Figure
from amdlib.core.evaluator import Evaluator
from amdlib.core.sandbox import Sandbox
from amdlib.problems.generalization.optimum import fit_percentile_dp, nonsp_cost
from amdlib.problems.generalization.problem import ScaledFacilityProblem, output_mb

VECTORIZED = """import numpy as np

def mechanism(peaks, weights, K):
    q = (np.arange(K) + 0.5) / K
    idx = np.minimum((q * peaks.shape[1]).astype(int), peaks.shape[1] - 1)
    return np.sort(peaks, axis=1)[:, idx]
"""
PER_PROFILE = """import numpy as np

def mechanism(peaks, weights, K):
    q = (np.arange(K) + 0.5) / K
    idx = np.minimum((q * peaks.shape[0]).astype(int), peaks.shape[0] - 1)
    return np.sort(peaks)[idx]
"""


def _evaluate(code: str, n: int, profiles: int, convention: str) -> tuple[float, dict]:
    problem = ScaledFacilityProblem(n_agents=n, n_facilities=2, distribution="uniform", weights="none", n_train=50,
                                    n_test=profiles, n_misreports=10, seed=0, convention=convention, timeout_s=600)
    need = output_mb(n, 10, profiles, 2)
    problem.payload("holdout")  # data generation is not part of the evaluation
    with Sandbox(workers=1, memory_mb=max(2048, 4 * need), max_output_mb=max(64, need)) as sb:
        ev = Evaluator(problem, sb)
        ev.evaluate_code(VECTORIZED, "search")  # warm the worker
        t0 = time.perf_counter()
        verdict = ev.evaluate_code(code, "holdout")
        seconds = time.perf_counter() - t0
    if not verdict.valid:
        raise RuntimeError(f"benchmark mechanism failed: {verdict.error}")
    return seconds, verdict.metrics


def run(quick: bool) -> list[Figure]:
    """Seconds to evaluate at n = 200 over 1000 profiles (vectorized; per-profile extrapolated
    from fewer profiles), and the DP fits of the percentile rule and the non-SP optimum."""
    n, full = 200, 1000
    vec_profiles = 250 if quick else full
    vec_s, metrics = _evaluate(VECTORIZED, n, vec_profiles, "vectorized")
    vec_1000 = vec_s * full / vec_profiles
    pp_profiles = 10 if quick else 50
    pp_s, _ = _evaluate(PER_PROFILE, n, pp_profiles, "per_profile")
    peaks = np.random.default_rng(0).uniform(size=(full, n))
    t0 = time.perf_counter()
    fit_percentile_dp(peaks, np.ones(n), 4)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    nonsp_cost(peaks, np.ones(n), 4)
    opt_s = time.perf_counter() - t0
    scaled = "" if vec_profiles == full else f" (measured on {vec_profiles} profiles, scaled)"
    return [
        Figure("evaluate vectorized mechanism, n=200, 1000 profiles, 10 misreports", vec_1000, "s", "<= 5",
               f"social cost {metrics['social_cost']:.4f}, max regret {metrics['max_regret']:.1e}{scaled}"),
        Figure("evaluate per-profile Python mechanism, n=200, 1000 profiles", pp_s * full / pp_profiles, "s", "",
               f"measured on {pp_profiles} profiles, scaled"),
        Figure("best percentile rule by DP, n=200, K=4, 1000 training profiles", fit_s, "s", "<= 10"),
        Figure("non-SP optimum by DP, n=200, K=4, 1000 profiles", opt_s, "s", "<= 10"),
    ]
