"""Paired verdicts: is the learned mechanism better than a baseline, on a large fresh sample?

Both mechanisms place facilities on the *same* fresh profiles (drawn from the setting's
distribution with their own seed stream, never used for fitting or choosing), and the
per-profile difference of weighted social costs gives a mean and a paired standard error.
``better`` / ``worse`` need the mean difference beyond ``Z`` standard errors; otherwise
``tie`` (an identical rule has zero differences and ties exactly). The learned code runs
in the sandbox through the Evaluator, with the problem's ``locations`` harness
(:func:`amdlib.problems.facility.harness.locations`); baselines are trusted and run in-process.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np

from amdlib.problems.facility.costs import social_costs
from amdlib.problems.facility.data import make_profiles

#: Standard errors a mean difference must exceed to count as better or worse (two-sided ~95%).
Z = 1.96
#: Profiles per sandbox call (bounds the worker's output size).
CHUNK = 50_000


def fresh_peaks(problem: Any, size: int) -> np.ndarray:
    """``size`` fresh profiles of the problem's setting (split stream ``fresh``)."""
    return make_profiles(problem.distribution, problem.n, int(size), 0, problem.seed, "fresh").peaks


def code_locations(evaluator: Any, code: str, peaks: np.ndarray) -> np.ndarray:
    """(B, K) locations of untrusted ``code`` on ``peaks``, run in the sandbox in chunks
    (``evaluator``: an :class:`amdlib.core.evaluator.Evaluator` of the facility problem)."""
    problem = evaluator.problem
    payloads = []
    for start in range(0, peaks.shape[0], CHUNK):
        part = np.ascontiguousarray(peaks[start : start + CHUNK])
        payload = {"peaks": part, "weights": np.asarray(problem.weights, dtype=float), "K": np.array([problem.k]),
                   "per_profile": np.array([int(problem.convention == "per_profile")])}
        key = f"facility-fresh-{problem.distribution}-{problem.n}-{problem.k}-{problem.seed}-{start}-{part.shape[0]}"
        payloads.append((payload, key))
    try:
        outputs = evaluator.outputs_many(code, payloads, harness="locations", timeout_s=max(60.0, problem.timeout_s))
    except RuntimeError as err:
        raise RuntimeError(f"learned mechanism failed on fresh profiles: {err}") from None
    return np.concatenate([np.asarray(out["loc"], dtype=float) for out in outputs], axis=0)


def paired(ours: np.ndarray, theirs: np.ndarray) -> dict[str, Any]:
    """Paired comparison of per-profile costs (``ours - theirs``; negative = ours better)."""
    diff = np.asarray(ours, dtype=float) - np.asarray(theirs, dtype=float)
    mean = float(diff.mean())
    se = float(diff.std(ddof=1) / math.sqrt(diff.size)) if diff.size > 1 else float("nan")
    if se == 0.0 or not math.isfinite(se):
        verdict = "tie" if mean == 0.0 else ("better" if mean < 0 else "worse")
    else:
        verdict = "better" if mean < -Z * se else ("worse" if mean > Z * se else "tie")
    return {"verdict": verdict, "mean_difference": mean, "paired_se": se, "z": mean / se if se else 0.0,
            "ours": float(np.mean(ours)), "theirs": float(np.mean(theirs)), "profiles": int(diff.size),
            "identical_share": float(np.mean(diff == 0.0))}


def paired_verdicts(evaluator: Any, code: str, baselines: Mapping[str, Callable], size: int) -> dict[str, Any]:
    """The learned ``code`` against each trusted baseline on ``size`` fresh profiles (paired);
    ``evaluator``: an Evaluator of the facility problem.

    Returns ``{"profiles", "learned": {"social_cost", "se"}, "vs": {name: paired(...)}}``."""
    problem = evaluator.problem
    peaks = fresh_peaks(problem, size)
    w = np.asarray(problem.weights, dtype=float)
    ours = social_costs(peaks, code_locations(evaluator, code, peaks), w)
    out: dict[str, Any] = {"profiles": int(peaks.shape[0]), "z_threshold": Z,
                           "learned": {"social_cost": float(ours.mean()), "se": float(ours.std(ddof=1) / math.sqrt(ours.size))},
                           "vs": {}}
    for name, fn in baselines.items():
        loc = np.asarray(fn(peaks, w, problem.k), dtype=float).reshape(peaks.shape[0], problem.k)
        out["vs"][name] = paired(ours, social_costs(peaks, loc, w))
    return out


__all__ = ["paired", "paired_verdicts", "fresh_peaks", "code_locations", "Z"]
