"""From harness outputs to an Evaluation: validation, social cost, regret, eq. 2 fitness.

The same code scores untrusted candidates (outputs from the sandbox) and
trusted mechanisms (baselines, neural nets) run through the harness directly.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from amdlib.core.problem import Evaluation
from amdlib.problems.facility.costs import regret_table, social_costs
from amdlib.problems.facility.data import Profiles
from amdlib.problems.facility.harness import harness


def payload_of(profiles: Profiles, weights: np.ndarray, k: int, per_profile: bool = False) -> dict[str, np.ndarray]:
    """The harness payload for profiles, public weights and K."""
    return {
        "peaks": np.ascontiguousarray(profiles.peaks, dtype=float),
        "misreports": np.ascontiguousarray(profiles.misreports, dtype=float),
        "weights": np.asarray(weights, dtype=float),
        "K": np.array([int(k)]),
        "per_profile": np.array([int(per_profile)]),
    }


def fitness(social_cost: float, max_regret: float, epsilon: float) -> float:
    """Paper eq. 2: the social cost if max regret <= epsilon, else 1 + max regret (> 1, so any
    mechanism within the threshold beats any outside it, and smaller regret still ranks higher)."""
    return social_cost if max_regret <= epsilon else 1.0 + max_regret


def _check(outputs: dict[str, np.ndarray], b: int, n: int, m: int, k: int) -> str:
    expected = {"loc": (b, k), "loc_dev": (n * m * b, k)}
    for key, shape in expected.items():
        if key not in outputs:
            return f"output: missing '{key}'"
        arr = np.asarray(outputs[key])
        if arr.shape != shape:
            return f"output: '{key}' has shape {arr.shape}, expected {shape}"
        if not np.all(np.isfinite(arr)):
            return f"output: non-finite facility locations in '{key}'"
    single = np.asarray(outputs.get("loc_single", np.zeros((0, k))), dtype=float)
    if single.size and not np.allclose(single, np.asarray(outputs["loc"])[: single.shape[0]], atol=1e-9):
        return "output: a profile's locations change with the other profiles in the batch (profiles must be independent)"
    return ""


def score_outputs(
    outputs: dict[str, np.ndarray], payload: dict[str, np.ndarray], epsilon: float, reference: float | None = None
) -> Evaluation:
    """Validate outputs and compute social cost, regrets and the fitness (score = -fitness).

    ``reference`` (optional) is the best percentile rule's cost, quoted in the diagnostics.
    """
    peaks, weights = payload["peaks"], payload["weights"]
    b, n = peaks.shape
    m, k = payload["misreports"].shape[1], int(payload["K"][0])
    error = _check(outputs, b, n, m, k)
    if error:
        return Evaluation.failed(error)
    loc, loc_dev = np.asarray(outputs["loc"], dtype=float), np.asarray(outputs["loc_dev"], dtype=float)
    social = float(social_costs(peaks, loc, weights).mean())
    table = regret_table(peaks, loc, loc_dev)
    max_regret = table.max_regret
    fit = fitness(social, max_regret, epsilon)
    worst = int(np.argmax(table.agent_regret))
    share = float(np.mean(table.regret.max(axis=0) > 0))
    ref = f" (best percentile rule {reference:.5f})" if reference is not None else ""
    verdict = "within" if max_regret <= epsilon else "ABOVE"
    diagnostics = (
        f"weighted social cost {social:.5f}{ref}; max regret {max_regret:.5f} (agent {worst}) {verdict} "
        f"epsilon {epsilon:g}; some agent gains by misreporting in {100 * share:.1f}% of profiles"
    )
    metrics = {
        "social_cost": social,
        "max_regret": max_regret,
        "mean_regret": float(table.agent_regret.mean()),
        "manipulable_share": share,
        "fitness": fit,
        "outside_unit_interval": float(np.mean((loc < 0) | (loc > 1))),
    }
    return Evaluation(valid=True, score=-fit, metrics=metrics, diagnostics=diagnostics)


Mechanism = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def evaluate_mechanism(
    fn: Mechanism, profiles: Profiles, weights: np.ndarray, k: int, epsilon: float = 0.0, per_profile: bool = False
) -> Evaluation:
    """Score a trusted mechanism (baseline, neural net) in-process, exactly as a candidate is scored."""
    payload = payload_of(profiles, weights, k, per_profile)
    return score_outputs(harness(fn, payload), payload, epsilon)
