"""Ground truths: Myerson's optimal revenue (with ironing) and second-price auctions.

Ironing works in quantile space. With q = F(v), the integral of the virtual
value is H(q) = -v (1 - q) exactly (integration by parts), so no derivative
of the density is needed: the ironed virtual value is the slope of the lower
convex hull of H, and the optimal revenue for n i.i.d. bidders is
E[max(phi_bar(q_max), 0)] with q_max = F(v_max) having density n q^(n-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from amdlib.problems.virtual_valuation.distributions import ValueDistribution

_GRID = np.linspace(0.0, 1.0, 200_001)


def _lower_hull(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the lower convex hull of points sorted by x (monotone chain)."""
    hull: list[int] = []
    for k in range(len(x)):
        while len(hull) >= 2:
            i, j = hull[-2], hull[-1]
            # Drop j when it lies on or above the chord from i to k.
            if (y[j] - y[i]) * (x[k] - x[i]) >= (y[k] - y[i]) * (x[j] - x[i]):
                hull.pop()
            else:
                break
        hull.append(k)
    return np.asarray(hull)


@dataclass(frozen=True)
class MyersonSolution:
    """The optimal auction for a distribution and number of bidders."""

    revenue: float
    reserve: float
    ironed: bool  # True when ironing changed the virtual value somewhere
    grid: np.ndarray  # bid grid
    ironed_virtual_value: np.ndarray  # phi_bar on the grid


def myerson(dist: ValueDistribution, n_bidders: int) -> MyersonSolution:
    """Optimal revenue by exact ironing on a fine grid."""
    v = _GRID
    q = dist.cdf(v)
    # Points with equal q (zero density) carry no mass: keep the first of each run.
    keep = np.concatenate([[True], np.diff(q) > 1e-15])
    v, q = v[keep], q[keep]
    h = -v * (1.0 - q)
    hull = _lower_hull(q, h)
    slopes = np.diff(h[hull]) / np.diff(q[hull])
    qa, qb = q[hull[:-1]], q[hull[1:]]
    revenue = float(np.sum(np.maximum(slopes, 0.0) * (qb**n_bidders - qa**n_bidders)))
    # phi_bar on the bid grid: the slope of the hull segment containing F(v).
    seg = np.clip(np.searchsorted(q[hull], dist.cdf(_GRID), side="right") - 1, 0, len(slopes) - 1)
    phi_bar = slopes[seg]
    positive = np.nonzero(phi_bar >= 0)[0]
    reserve = float(_GRID[positive[0]]) if len(positive) else float("inf")
    # Ironing changed something iff the hull leaves H somewhere (H above its hull).
    ironed = bool(np.max(h - np.interp(q, q[hull], h[hull])) > 1e-9)
    return MyersonSolution(revenue, reserve, ironed, _GRID, phi_bar)


def second_price_revenue(dist: ValueDistribution, n_bidders: int, reserve: float) -> float:
    """Expected revenue of the second-price auction with a reserve price."""
    t = np.linspace(reserve, 1.0, 20_001)
    f_t = dist.cdf(t)
    below_second = f_t**n_bidders + n_bidders * f_t ** (n_bidders - 1) * (1 - f_t)
    tail = np.trapezoid(1.0 - below_second, t) if reserve < 1 else 0.0
    f_r = float(dist.cdf(np.array([reserve]))[0])
    p_second_above = 1.0 - (f_r**n_bidders + n_bidders * f_r ** (n_bidders - 1) * (1 - f_r))
    p_only_winner = n_bidders * f_r ** (n_bidders - 1) * (1 - f_r)
    return float(reserve * (p_only_winner + p_second_above) + tail)


def best_reserve(dist: ValueDistribution, n_bidders: int) -> tuple[float, float]:
    """(reserve, revenue) of the revenue-maximising second-price reserve (grid + refine)."""
    coarse = np.linspace(0.0, 0.99, 100)
    revs = [second_price_revenue(dist, n_bidders, r) for r in coarse]
    k = int(np.argmax(revs))
    fine = np.linspace(max(0.0, coarse[k] - 0.01), min(1.0, coarse[k] + 0.01), 201)
    revs = [second_price_revenue(dist, n_bidders, r) for r in fine]
    j = int(np.argmax(revs))
    return float(fine[j]), float(revs[j])
