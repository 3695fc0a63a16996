"""Exact baselines at any n: the best percentile rule and the non-SP optimum, by DP.

Brute force over C(n, K) order-statistic sets (Experiment 4's ``fit_percentile``) is
infeasible at n = 200 (C(200, 4) = 6.5e7 sets). Both problems here have a chain
structure on the sorted peaks, which makes them exact dynamic programmes:

* **Percentile rule.** With facilities at sorted positions i_1 < ... < i_K, every agent
  goes to its nearest facility, so the cost of a profile splits into a term for the
  agents left of i_1, one for each gap (i_t, i_{t+1}) (agents split at the midpoint)
  and one for the agents right of i_K. The *mean* cost over training profiles splits
  the same way, so the best index set is a shortest path over
  (facility, order-statistic index): O(K n^2) after O(B n^2) pair costs. Exact.
* **Non-SP optimum.** Optimal 1-D k-median clusters are contiguous in sorted order with
  each facility at its cluster's weighted median; a DP over (facility, prefix) per
  profile, vectorised over profiles and prefixes: O(B K n^2).
"""

from __future__ import annotations

import numpy as np

from amdlib.problems.facility.baselines import Fitted, best_chain, percentile_rule
from amdlib.problems.facility.costs import social_costs

#: Profiles per vectorised block (bounds memory at about chunk * n^2 floats per array).
PAIR_BLOCK = 2_000_000


def _sorted_prefix(peaks: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sorted peaks x (B, n), their normalised weights w, and prefix sums S0 = cum w, S1 = cum w x (B, n+1)."""
    order = np.argsort(peaks, axis=1, kind="stable")
    x = np.take_along_axis(peaks, order, axis=1)
    w = (np.asarray(weights, dtype=float) / np.sum(weights))[order]
    zero = np.zeros((x.shape[0], 1))
    return x, w, np.concatenate([zero, np.cumsum(w, 1)], 1), np.concatenate([zero, np.cumsum(w * x, 1)], 1)


def _rowwise_searchsorted(rows: np.ndarray, values: np.ndarray, side: str) -> np.ndarray:
    """``np.searchsorted`` of values (B, ...) into each sorted row of ``rows`` (B, L), at once.

    Rows are shifted apart by a constant larger than their range so that one flat search
    does them all (entries are in [0, 1], so a shift of 4 per row keeps them disjoint).
    """
    b, length = rows.shape
    shift = 4.0 * np.arange(b)
    flat = (rows + shift[:, None]).ravel()
    found = np.searchsorted(flat, (values + shift.reshape((b,) + (1,) * (values.ndim - 1))).ravel(), side=side)
    return found.reshape(values.shape) - (length * np.arange(b)).reshape((b,) + (1,) * (values.ndim - 1))


def percentile_chain_costs(peaks: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean-over-profiles chain terms of percentile rules: left (n,), gap (n, n) (a < b), right (n,).

    left[a]: agents below order statistic a; gap[a, b]: agents strictly between a and b,
    each served by the nearer of the two; right[b]: agents above b (weighted, normalised).
    """
    b_total, n = peaks.shape
    left, right, gap = np.zeros(n), np.zeros(n), np.zeros((n, n))
    ia, ib = np.triu_indices(n, 1)
    step = max(1, PAIR_BLOCK // max(1, ia.size))
    for start in range(0, b_total, step):
        x, _, s0, s1 = _sorted_prefix(peaks[start : start + step], weights)
        left += (x * s0[:, :-1] - s1[:, :-1]).sum(0)
        right += ((s1[:, -1:] - s1[:, 1:]) - x * (s0[:, -1:] - s0[:, 1:])).sum(0)
        xa, xb = x[:, ia], x[:, ib]
        # agents a+1..m-1 go to a, m..b-1 to b (ties at the midpoint cost the same either way)
        m = _rowwise_searchsorted(x, 0.5 * (xa + xb), "right")
        m = np.clip(m, ia + 1, ib)
        rows = np.arange(x.shape[0])[:, None]
        s0m, s1m = s0[rows, m], s1[rows, m]
        to_a = (s1m - s1[:, ia + 1]) - xa * (s0m - s0[:, ia + 1])
        to_b = xb * (s0[:, ib] - s0m) - (s1[:, ib] - s1m)
        gap[ia, ib] += (to_a + to_b).sum(0)
    return left / b_total, gap / b_total, right / b_total


def fit_percentile_dp(peaks: np.ndarray, weights: np.ndarray, k: int) -> Fitted:
    """The best K order statistics on training profiles, exactly, by DP over index chains.

    Same objective and same output as Experiment 4's brute-force ``fit_percentile``
    (0-based indices, mean weighted social cost), feasible at any n.
    """
    n = peaks.shape[1]
    if k >= n:
        choice = tuple(range(n))
        return Fitted("percentile", choice, float(social_costs(peaks, np.sort(peaks, 1), weights).mean()), percentile_rule(choice))
    choice, cost = best_chain(*percentile_chain_costs(peaks, weights), k)
    return Fitted("percentile", choice, cost, percentile_rule(choice))


def kmedian_dp(peaks: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Exact per-profile optimum (the non-SP benchmark): K locations (B, K) minimising the
    weighted sum of distances; facilities beyond n repeat the last one."""
    b_total, n = peaks.shape
    kk = min(int(k), n)
    out = np.zeros((b_total, int(k)))
    a_idx, e_idx = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    valid = e_idx > a_idx
    a_v, e_v = a_idx[valid], e_idx[valid]
    uniform = bool(np.all(np.asarray(weights) == np.asarray(weights).ravel()[0]))
    step = max(1, PAIR_BLOCK // (n + 1) ** 2)
    for start in range(0, b_total, step):
        x, _, s0, s1 = _sorted_prefix(peaks[start : start + step], weights)
        bsz = x.shape[0]
        rows = np.arange(bsz)[:, None]
        if uniform:  # equal weights: the (lower) median index is known in closed form
            m = np.broadcast_to(a_v + (e_v - a_v - 1) // 2, (bsz, a_v.size))
        else:  # weighted median of cluster [a, e): first t with S0[t+1] >= S0[a] + half its weight
            target = s0[:, a_v] + 0.5 * (s0[:, e_v] - s0[:, a_v]) - 1e-12
            m = np.clip(_rowwise_searchsorted(s0[:, 1:], target, "left"), a_v, e_v - 1)
        xm = x[rows, m]
        s0m, s1m = s0[rows, m + 1], s1[rows, m + 1]
        cost_v = xm * (2 * s0m - s0[:, a_v] - s0[:, e_v]) + s1[:, a_v] + s1[:, e_v] - 2 * s1m
        # laid out (profile, end e, start a) so the DP minimises over the contiguous last axis
        cost = np.full((bsz, n + 1, n + 1), np.inf)
        med = np.zeros((bsz, n + 1, n + 1))
        cost[:, e_v, a_v], med[:, e_v, a_v] = cost_v, xm
        best = np.full((bsz, n + 1), np.inf)
        best[:, 0] = 0.0
        args = []
        for _ in range(kk):
            cand = best[:, None, :] + cost  # (B, e, a): last cluster [a, e)
            arg = np.argmin(cand, axis=2)
            args.append(arg)
            best = np.take_along_axis(cand, arg[:, :, None], axis=2)[:, :, 0]
        end = np.full(bsz, n)
        r = np.arange(bsz)
        for f in range(kk, 0, -1):  # backtrack cluster boundaries from the last facility
            begin = args[f - 1][r, end]
            out[start + r, f - 1] = med[r, end, begin]
            end = begin
    out[:, kk:] = out[:, kk - 1 : kk]
    return out


def nonsp_cost(peaks: np.ndarray, weights: np.ndarray, k: int) -> float:
    """Mean weighted social cost of the per-profile optimum."""
    return float(social_costs(peaks, kmedian_dp(peaks, weights, k), np.asarray(weights, dtype=float)).mean())
