"""`amd bench facility_location`: candidate evaluation speed and the exact non-SP optimum.

A full evaluation is the harness (truthful + 10 misreports for every agent, 1000 profiles,
n = 10, K = 4) plus scoring with regret, run in-process (sandbox overhead is benchmarked
separately).
"""

from __future__ import annotations


import numpy as np

from amdlib.benchmarks import Figure, median_seconds
from amdlib.problems.facility.baselines import nonsp_optimum
from amdlib.problems.facility.evaluation import evaluate_mechanism
from amdlib.problems.facility.data import make_profiles, resolve_weights


def _per_profile(peaks, weights, k):
    """A plain-Python per-profile rule: evenly spaced order statistics of one profile."""
    s = sorted(peaks)
    n = len(s)
    return [s[min(n - 1, int((j + 0.5) * n / k))] for j in range(k)]


def _vectorized(peaks, weights, k):
    """The same rule on a whole batch with numpy."""
    n = peaks.shape[1]
    idx = np.minimum(n - 1, ((np.arange(k) + 0.5) * n / k).astype(int))
    return np.sort(peaks, axis=1)[:, idx]


def run(quick: bool) -> list[Figure]:
    n, k = 10, 4
    data = make_profiles("uniform", n, 1000, 10, 0, "test")
    w = resolve_weights("fixed", n)
    reps = 1 if quick else 3
    per = median_seconds(lambda: evaluate_mechanism(_per_profile, data, w, k, per_profile=True), reps)
    vec = median_seconds(lambda: evaluate_mechanism(_vectorized, data, w, k), reps * 3)
    opt = median_seconds(lambda: nonsp_optimum(data.peaks, w, k), reps * 3)
    note = "1000 profiles x 10 misreports x 10 agents (101,000 mechanism calls), n=10, K=4, with regret"
    return [
        Figure("full evaluation, per-profile Python mechanism", per, "s", "<= 1", note),
        Figure("full evaluation, vectorised mechanism", vec * 1000, "ms", "<= 50", note),
        Figure("non-SP optimum (exact DP), 1000 profiles", opt, "s", "<= 0.5", "n=10, K=4"),
    ]
