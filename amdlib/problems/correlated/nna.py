"""NNA: distil a trained network into code (the same function, harness and fix).

The proposer writes the same ``priority`` function as in the revenue problem;
its scores are fixed into a threshold mechanism exactly as there, and the
fitness is minus the L2 distance between that mechanism's allocation and
payments and the network's, weighted by the probability of each grid profile.
The fix is inside the fitness, so the code that wins is the one whose
*deployed* (SP and IR) mechanism is closest to the network.
"""

from __future__ import annotations

import numpy as np

from amdlib.core.problem import Evaluation, Outputs
from amdlib.problems.correlated.mechanism import Thresholds
from amdlib.problems.correlated.problem import CorrelatedRevenueProblem

NNA_TASK = (
    "Write the allocation rule of a two-bidder auction, as a score function, so that the "
    "auction it induces imitates a trained neural-network auction (RegretNet). Bidders' values "
    "are correlated on a grid of [0, 1]. The higher non-negative score wins; a fixing step makes "
    "each bidder's winning set monotone in its own bid and charges threshold prices (so the "
    "result is strategy-proof and individually rational). The fitness is minus the L2 distance "
    "between the fixed auction's allocations and payments and the network's, over all bid "
    "profiles weighted by their probability: match who wins and what they pay."
)

TABLE_KEYS = ("x1", "p1", "x2", "p2")


def tables_of(mech: Thresholds, values: np.ndarray) -> dict[str, np.ndarray]:
    """Allocation and payment tables of a threshold mechanism (keys as a RegretNet's)."""
    x1, x2 = mech.allocation()
    p1, p2 = mech.payments(values)
    return {"x1": x1, "p1": p1, "x2": x2, "p2": p2}


def l2_distance(ours: dict[str, np.ndarray], target: dict[str, np.ndarray], pmf: np.ndarray) -> float:
    """sqrt(E[sum over bidders of (x - x*)^2 + (p - p*)^2]) under the joint law."""
    sq = sum((ours[k] - target[k]) ** 2 for k in TABLE_KEYS)
    return float(np.sqrt(np.sum(pmf * sq)))


class DistillProblem(CorrelatedRevenueProblem):
    """Fitness = minus the L2 distance of the fixed mechanism to the network's tables."""

    name = "correlated_nna"
    task = NNA_TASK

    def __init__(self, grid_size: int, rho: float, target: dict[str, np.ndarray]) -> None:
        super().__init__(grid_size, rho)
        g = self.law.grid_size
        for key in TABLE_KEYS:
            if np.shape(target.get(key)) != (g, g):
                raise ValueError(f"target table {key!r} must have shape ({g}, {g})")
        self.target = {k: np.asarray(target[k], dtype=float) for k in TABLE_KEYS}

    def score(self, outputs: Outputs, split: str) -> Evaluation:
        report = self.fixed(outputs)
        if isinstance(report, str):
            return Evaluation.failed(report)
        ours = tables_of(report.mechanism, self.law.values)
        dist = l2_distance(ours, self.target, self.law.pmf)
        m = {**self.metrics(report), "distance": dist}
        return Evaluation(valid=True, score=-dist, metrics=m, diagnostics=self._diagnose(ours, dist, m))

    def _diagnose(self, ours: dict[str, np.ndarray], dist: float, m: dict[str, float]) -> str:
        # Point the proposer at the profile where the allocations differ most (by probability).
        gap = self.law.pmf * ((ours["x1"] - self.target["x1"]) ** 2 + (ours["x2"] - self.target["x2"]) ** 2)
        a, b = np.unravel_index(int(np.argmax(gap)), gap.shape)
        v = self.law.values
        return (
            f"L2 distance to the network {dist:.5f}; fixed revenue {m['revenue']:.5f}. Largest allocation "
            f"mismatch at bids ({v[a]:.2f}, {v[b]:.2f}): network gives bidder 1 {self.target['x1'][a, b]:.2f} "
            f"and bidder 2 {self.target['x2'][a, b]:.2f}, yours {ours['x1'][a, b]:.0f} and {ours['x2'][a, b]:.0f}"
        )

    def signature(self, evaluation: Evaluation) -> tuple[float, ...]:
        return (round(evaluation.score, 6),)
