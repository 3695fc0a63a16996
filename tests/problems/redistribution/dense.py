"""Shared by the fix tests: the fix's scale checked against a dense search over own bids."""

import numpy as np

from amdlib.problems.redistribution.model import vcg_revenue


def dense_min_ratio(h, b: np.ndarray, k: int, n: int, m: int, points: int) -> float:
    """min over own bids x on a grid of VCG revenue / total clipped rebate, bidder k's others fixed."""
    others = np.delete(b, k)
    ratios = []
    for x in np.linspace(0, 1, points):
        p = -np.sort(-np.append(others, x))
        total = sum(np.maximum(h(np.delete(p, j)[None], n, m), 0)[0] for j in range(n))
        ratios.append(vcg_revenue(p[None], m)[0] / total)
    return min(ratios)
