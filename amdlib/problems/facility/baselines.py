"""Handcrafted baselines (best percentile, dictatorial, constant rules) and the exact
non-strategy-proof optimum (weighted k-median on the line by dynamic programming).

Each rule is a vectorised mechanism ``fn(peaks (B, n), weights (n,), K) -> (B, K)``,
so it is scored by the same harness and regret code as a learned candidate. The
best index/agent/point set is chosen by brute force on the training profiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb
from typing import Callable

import numpy as np

from amdlib.problems.facility.costs import social_costs

#: Above this many candidate point sets the constant rule is fitted by the exact dynamic programme
#: (:func:`_best_points_dp`) instead of brute force; below it brute force keeps every earlier
#: result's choice (ties included). C(50, 4) = 230,300 at n = 25 took about 20 min by brute force.
CONSTANT_BRUTE_FORCE_MAX = 50_000


def percentile_rule(order: tuple[int, ...]) -> Callable:
    """Facilities at the given (0-based) order statistics of the reported peaks."""
    idx = np.asarray(order, dtype=int)
    return lambda peaks, weights, k: np.sort(peaks, axis=1)[:, idx]


def dictatorial_rule(agents: tuple[int, ...]) -> Callable:
    """Facilities at the reported peaks of a fixed set of agents."""
    idx = np.asarray(agents, dtype=int)
    return lambda peaks, weights, k: peaks[:, idx]


def constant_rule(points: tuple[float, ...]) -> Callable:
    """Facilities at fixed points, whatever the reports."""
    pts = np.asarray(points, dtype=float)
    return lambda peaks, weights, k: np.broadcast_to(pts, (peaks.shape[0], pts.size)).copy()


def constant_grid(n: int) -> np.ndarray:
    """The constant rule's candidate points {0, 1/(2n-1), ..., 1} (2n points)."""
    return np.arange(2 * n) / (2 * n - 1)


@dataclass(frozen=True)
class Fitted:
    """A fitted rule: its kind, the chosen set, the training cost and the mechanism."""

    kind: str
    choice: tuple
    train_cost: float
    fn: Callable


def _best_subset(columns: np.ndarray, peaks: np.ndarray, weights: np.ndarray, k: int) -> tuple[tuple[int, ...], float]:
    """The K-subset of candidate locations (columns, (B, C)) with least mean weighted social cost."""
    if k >= columns.shape[1]:
        combos = [tuple(range(columns.shape[1]))]
    else:
        combos = list(combinations(range(columns.shape[1]), k))
    dist = np.abs(peaks[:, :, None] - columns[:, None, :])  # (B, n, C)
    wn = weights / weights.sum()
    best, best_cost = combos[0], np.inf
    for start in range(0, len(combos), 256):  # vectorise over combos in chunks
        chunk = np.asarray(combos[start : start + 256])
        cost = np.einsum("bnc,n->bc", np.min(dist[:, :, chunk], axis=3), wn)
        means = cost.mean(axis=0)
        i = int(np.argmin(means))
        if means[i] < best_cost - 1e-15:
            best, best_cost = tuple(int(c) for c in chunk[i]), float(means[i])
    return best, best_cost


def fit_percentile(peaks: np.ndarray, weights: np.ndarray, k: int) -> Fitted:
    """Best K order statistics (brute force over C(n, K))."""
    choice, cost = _best_subset(np.sort(peaks, axis=1), peaks, weights, k)
    return Fitted("percentile", choice, cost, percentile_rule(choice))


def fit_dictatorial(peaks: np.ndarray, weights: np.ndarray, k: int) -> Fitted:
    """Best set of K dictators (brute force over C(n, K))."""
    choice, cost = _best_subset(peaks, peaks, weights, k)
    return Fitted("dictatorial", choice, cost, dictatorial_rule(choice))


def best_chain(left: np.ndarray, gap: np.ndarray, right: np.ndarray, k: int) -> tuple[tuple[int, ...], float]:
    """The cheapest chain of K ascending candidates c_1 < ... < c_K under a cost that splits into
    ``left[c_1] + sum gap[c_t, c_t+1] + right[c_K]`` (each (L,) or (L, L), entries of ``gap`` below
    its diagonal unused): a shortest path over (facilities placed, last candidate), exact, O(K L^2).
    Returns the candidates (ascending) and the chain's cost.

    Both rules that place facilities at fixed candidates, order statistics (the percentile rule)
    and grid points (the constant rule), cost this way: every agent goes to its nearest facility,
    so agents split at the midpoint of each consecutive pair.
    """
    size = len(left)
    gap = np.where(np.triu(np.ones((size, size), dtype=bool), 1), gap, np.inf)
    best = left.copy()  # best[c]: cheapest chain of f facilities ending at candidate c (left part included)
    back = []
    for _ in range(1, k):
        cand = best[:, None] + gap  # (a, c)
        arg = np.argmin(cand, axis=0)
        back.append(arg)
        best = cand[arg, np.arange(size)]
    total = best + right
    last = int(np.argmin(total))
    chain = [last]
    for arg in reversed(back):
        chain.append(int(arg[chain[-1]]))
    return tuple(sorted(chain)), float(total[last])


def _best_points_dp(grid: np.ndarray, peaks: np.ndarray, weights: np.ndarray, k: int) -> tuple[int, ...]:
    """The K grid points (indices, ascending; ``grid`` sorted) with least mean weighted distance
    from every agent's peak to its nearest point: a 1-D K-median over candidate points, exact.

    A constant rule ignores the reports, so its cost is one weighted sum over the pooled peaks:
    a left tail, one term per consecutive pair and a right tail (:func:`best_chain`), each a
    difference of prefix sums over the sorted pooled peaks.
    """
    b, n = peaks.shape
    order = np.argsort(peaks.ravel(), kind="stable")
    x = peaks.ravel()[order]
    v = np.broadcast_to(weights / weights.sum() / b, (b, n)).ravel()[order]
    cw = np.concatenate([[0.0], np.cumsum(v)])
    cwx = np.concatenate([[0.0], np.cumsum(v * x)])

    def below(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # mass and first moment of peaks < t
        i = np.searchsorted(x, t, side="left")
        return cw[i], cwx[i]

    wg, sg = below(grid)
    left = grid * wg - sg  # peaks below a point, all served by it
    right = (cwx[-1] - sg) - grid * (cw[-1] - wg)  # peaks above it
    mid_w, mid_s = below((grid[:, None] + grid[None, :]) / 2)  # (G, G): split point of a pair
    # pair[a, c] (a < c): peaks between points a and c, each to the nearer of the two
    pair = ((mid_s - sg[:, None]) - grid[:, None] * (mid_w - wg[:, None])
            + grid[None, :] * (wg[None, :] - mid_w) - (sg[None, :] - mid_s))
    return best_chain(left, pair, right, k)[0]


def fit_constant(peaks: np.ndarray, weights: np.ndarray, k: int) -> Fitted:
    """Best K distinct points of the grid {j / (2n - 1)}: brute force over C(2n, K), or the exact
    DP of :func:`_best_points_dp` beyond ``CONSTANT_BRUTE_FORCE_MAX`` point sets."""
    grid = constant_grid(peaks.shape[1])
    if k < grid.size and comb(grid.size, k) > CONSTANT_BRUTE_FORCE_MAX:
        points = tuple(float(grid[c]) for c in _best_points_dp(grid, peaks, weights, k))
        rule = constant_rule(points)
        return Fitted("constant", points, float(social_costs(peaks, rule(peaks, weights, k), weights).mean()), rule)
    choice, cost = _best_subset(np.broadcast_to(grid, (peaks.shape[0], grid.size)), peaks, weights, k)
    points = tuple(float(grid[c]) for c in choice)
    return Fitted("constant", points, cost, constant_rule(points))


def nonsp_optimum(peaks: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Exact per-profile optimum: K facilities minimising the weighted sum of distances.

    On a line the optimal clusters are contiguous in sorted order and each facility sits
    at its cluster's weighted median, so a DP over (facilities, prefix) is exact. Returns
    (B, K) locations (facilities beyond n repeat the last one).
    """
    b, n = peaks.shape
    order = np.argsort(peaks, axis=1)
    x = np.take_along_axis(peaks, order, axis=1)
    w = np.broadcast_to(weights, (b, n))[np.arange(b)[:, None], order]
    cw, cwx = np.concatenate([np.zeros((b, 1)), np.cumsum(w, 1)], 1), np.concatenate([np.zeros((b, 1)), np.cumsum(w * x, 1)], 1)
    rows = np.arange(b)
    # cost[a, e] / med[a, e]: one facility serving sorted agents a..e-1 (weighted median).
    cost = np.full((n + 1, n + 1, b), np.inf)
    med = np.zeros((n + 1, n + 1, b))
    for a in range(n):
        for e in range(a + 1, n + 1):
            half = cw[:, a] + 0.5 * (cw[:, e] - cw[:, a])
            m = a + np.minimum(np.sum(cw[:, a + 1 : e + 1] < half[:, None] - 1e-12, axis=1), e - a - 1)
            xm = x[rows, m]
            left = xm * (cw[rows, m + 1] - cw[:, a]) - (cwx[rows, m + 1] - cwx[:, a])
            right = (cwx[:, e] - cwx[rows, m + 1]) - xm * (cw[:, e] - cw[rows, m + 1])
            cost[a, e], med[a, e] = left + right, xm
    kk = min(k, n)
    best = np.full((kk + 1, n + 1, b), np.inf)
    arg = np.zeros((kk + 1, n + 1, b), dtype=int)
    best[0, 0] = 0.0
    for f in range(1, kk + 1):
        for e in range(f, n + 1):
            cand = best[f - 1, :e] + cost[:e, e]  # (e, B): last cluster starts at a
            arg[f, e] = np.argmin(cand, axis=0)
            best[f, e] = cand[arg[f, e], rows]
    loc = np.zeros((b, k))
    end = np.full(b, n)
    for f in range(kk, 0, -1):  # backtrack the cluster boundaries
        start = arg[f, end, rows]
        loc[:, f - 1] = med[start, end, rows]
        end = start
    loc[:, kk:] = loc[:, kk - 1 : kk]
    return loc


def nonsp_rule() -> Callable:
    """The non-SP optimum as a mechanism (uses the public weights)."""
    return lambda peaks, weights, k: nonsp_optimum(peaks, weights, k)
