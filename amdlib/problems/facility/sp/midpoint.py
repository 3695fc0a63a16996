"""One fixed point among the reports: facilities at order statistics of the n reports and a point p.

``Midpoint(p, levels)`` puts facility k at the ``a_k``-th smallest of the n + 1 points made of
the reports and the fixed point ``p``, where ``a_k = floor(levels[k] * (n + 1))``: quantile
levels, so the rule accepts any n. It is a percentile rule of a population with one extra,
truthful agent at ``p``.

Strategy-proof: the a-th smallest of the reports and ``p`` is Moulin's generalised median with
phantoms 0 (``n - a`` times), ``p`` and 1 (``a`` times). A report moves it only away from the
reporter's true peak (it does not move while the report stays on the same side, and moves
outward when the report crosses it), so no lie brings any facility closer, whatever ``p`` and
the levels. The tests audit members on a dense grid.

Why a transfer run wants it: a percentile rule is tied to where the peaks lie. With ``p`` in the
middle of the peak space, the same member uses the lower order statistics of the reports when
the peaks pile up on one side of ``p`` and shifted ones when they pile up on the other side.
Fitted, like every seed, on the training profiles only.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from amdlib.problems.facility.costs import social_costs
from amdlib.problems.facility.sp.member import FittedMember

#: The fixed point: the middle of the peak space [0, 1], not fitted. A point fitted on the
#: training profiles follows their noise (on 1000 uniform profiles, points 0.5 and 0.8 tie to
#: 1e-5 in training cost), and only the middle is a fixed point of the mirror x -> 1 - x.
POINT = 0.5
#: Most K-subsets of the n + 1 positions the fit tries (brute force; beyond it: none fitted).
MAX_SUBSETS = 400


def _with_point(peaks: np.ndarray, p: float) -> np.ndarray:
    """(B, n + 1) the reports and the point, sorted."""
    return np.sort(np.concatenate([peaks, np.full((peaks.shape[0], 1), p)], axis=1), axis=1)


@dataclass(frozen=True)
class Midpoint:
    p: float
    levels: tuple[float, ...]

    def locations(self, peaks: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """(B, K) locations on (B, n) reports (trusted, in-process; the weights play no part)."""
        z = _with_point(peaks, self.p)
        m = z.shape[1]
        return z[:, [min(int(q * m), m - 1) for q in self.levels]]

    def body(self) -> str:
        levels = ", ".join(repr(q) for q in self.levels)
        return "\n    ".join([
            "x = peaks.reshape(-1, peaks.shape[-1])",
            f"z = np.sort(np.concatenate([x, np.full((x.shape[0], 1), {self.p!r})], axis=1), axis=1)",
            f"idx = [min(int(q * z.shape[1]), z.shape[1] - 1) for q in ({levels},)]",
            "return z[:, idx].reshape(peaks.shape[:-1] + (len(idx),))",
        ])

    def describe(self) -> list[str]:
        return [repr(self)]


def fit_midpoint(peaks: np.ndarray, weights: np.ndarray, k: int, p: float = POINT) -> FittedMember | None:
    """The member with the least mean social cost on ``peaks`` over every K-subset of the n + 1
    positions (ties: the first in lexicographic order); None where the subsets are too many."""
    n = peaks.shape[1]
    subsets = list(itertools.combinations(range(n + 1), k))
    if len(subsets) > MAX_SUBSETS:
        return None
    w = np.asarray(weights, dtype=float)
    z = _with_point(peaks, p)
    costs = [float(social_costs(peaks, z[:, list(subset)], w).mean()) for subset in subsets]
    best = int(np.argmin(costs))
    levels = tuple(round((a + 0.5) / (n + 1), 6) for a in subsets[best])
    return FittedMember("midpoint", Midpoint(float(p), levels), costs[best])


__all__ = ["Midpoint", "POINT", "fit_midpoint"]
