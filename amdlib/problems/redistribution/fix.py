"""The fixing step: worst-case scaling of rebates over each bidder's own bid.

Given raw rebates ``h`` on every query vector of a profile (see
:mod:`.model`), bidder ``k`` receives

    r_k = s_k * max(h(o_k), 0),   s_k = min over own bids x in X_k of R(x) / T_k(x),

where ``T_k(x) = sum_j max(h(o_j(x)), 0)`` is the total clipped rebate and
``R(x)`` the VCG revenue at the profile where ``k`` bids ``x`` and the others
bid ``o_k``; ``X_k = {0, 1} ∪ o_k`` (the breakpoints of the order) and points
with ``T_k(x) = 0`` impose nothing. ``s_k`` depends on ``o_k`` only, so each
rebate ignores the bidder's own bid (SP); rebates are >= 0 (IR). At the true
profile every ``s_k <= R / T``, so the total rebate ``sum_k s_k h_k^+ <= R``
(non-deficit) -- provided the minimum over ``X_k`` is the minimum over
``[0, 1]``, which holds whenever ``h`` is convex along each coordinate of the
others' sorted bids (every linear rule, products, squares, maxima, input-convex
networks): ``s T_k(x) - R(x)`` is then convex between breakpoints. The scale
``s_k`` may exceed 1: slack at every own bid is handed back, so a feasible rule
is never made worse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from amdlib.problems.redistribution.model import augment, path_index, vcg_revenue

#: Tolerance of the audits (rounding in sums of rebates).
TOL = 1e-9


@dataclass
class Fixed:
    """Rebates of a batch of profiles before and after the fix, all shape (P, n)."""

    raw: np.ndarray
    rebates: np.ndarray
    scale: np.ndarray
    revenue: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """Total rebate per profile after the fix, shape (P,)."""
        return self.rebates.sum(axis=1)

    @property
    def raw_total(self) -> np.ndarray:
        """Total raw rebate per profile (no clipping, no scaling), shape (P,)."""
        return self.raw.sum(axis=1)


def own_bid_revenue(profiles: np.ndarray, m: int) -> np.ndarray:
    """VCG revenue when bidder k's bid is replaced by each point of X_k: shape (P, n, n+1)."""
    n = profiles.shape[1]
    index = path_index(n)
    aug = augment(profiles)
    x = aug[:, index.own_bid]  # (P, n, n+1)
    others = aug[:, index.others]  # (P, n, n-1) sorted descending
    hi = others[:, :, m - 1][..., None]  # m-th highest of the others
    lo = others[:, :, m][..., None] if m < n - 1 else np.zeros_like(hi)
    return m * np.clip(x, lo, hi)


def apply_fix(h: np.ndarray, profiles: np.ndarray, m: int) -> Fixed:
    """Apply the worst-case scaling fix.

    Args:
        h: raw rebates on the query vectors, shape (V, P), query-major as
            :func:`~amdlib.problems.redistribution.model.queries` orders them.
        profiles: bid profiles sorted descending, shape (P, n).
        m: number of units.

    Returns:
        :class:`Fixed` with raw and fixed rebates of the ``n`` bidders (ranked as in ``profiles``).
    """
    p, n = profiles.shape
    index = path_index(n)
    hp = np.maximum(h, 0.0)
    own = hp[:n].T  # (P, n): clipped rebate of each bidder at the true profile
    others_total = hp[index.path.reshape(-1)].reshape(n, n + 1, n - 1, p).sum(axis=2)  # (n, n+1, P)
    total = own[:, :, None] + others_total.transpose(2, 0, 1)  # (P, n, n+1)
    revenue = own_bid_revenue(profiles, m)
    positive = total > 0.0
    ratio = np.divide(revenue, total, out=np.full(total.shape, np.inf), where=positive)
    scale = ratio.min(axis=2)
    scale[~np.isfinite(scale)] = 0.0  # all totals zero: h_k^+ = 0 anyway
    return Fixed(raw=h[:n].T.copy(), rebates=scale * own, scale=scale, revenue=vcg_revenue(profiles, m))
