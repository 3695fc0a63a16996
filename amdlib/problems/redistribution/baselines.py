"""Linear redistribution rules: Bailey-Cavallo, worst-case optimal (WCO) and the OEL.

A linear rule pays ``r = sum_j c_j o_j`` where ``o_j`` is the ``j``-th highest
of the others' bids (0-indexed here). Any constant term must be 0: IR at the
all-zero profile needs it >= 0 and non-deficit (revenue 0) needs it <= 0.
Because the total rebate and the revenue are linear on the ordered simplex
``1 >= b_0 >= ... >= b_{n-1} >= 0``, checking IR and non-deficit at its
vertices (profiles of t ones then zeros) is enough; the optimal-in-expectation
linear rule (OEL) is therefore a small linear program.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from amdlib.problems.redistribution.model import check_setting


def bailey_cavallo(n: int, m: int) -> np.ndarray:
    """BC: ``r = (m / n) * o_m`` (the (m+1)-th highest of the others)."""
    check_setting(n, m)
    c = np.zeros(n - 1)
    c[m] = m / n
    return c


def wco(n: int, m: int) -> np.ndarray:
    """Guo-Conitzer worst-case optimal linear rule (coefficients on the others' order statistics)."""
    check_setting(n, m)
    c = np.zeros(n - 1)
    denom_sum = sum(math.comb(n - 1, k) for k in range(m, n))
    for j in range(m + 1, n):  # 1-indexed order statistic j
        tail = sum(math.comb(n - 1, k) for k in range(j, n))
        sign = (-1) ** (j + m - 1)
        c[j - 1] = sign * (n - m) * math.comb(n - 1, m - 1) * tail / (j * math.comb(n - 1, j) * denom_sum)
    return c


def wco_alpha(n: int, m: int) -> float:
    """WCO's guaranteed (worst-case) fraction of VCG revenue redistributed."""
    return 1.0 - math.comb(n - 1, m) / sum(math.comb(n - 1, k) for k in range(m, n))


def bc_expected_fraction_uniform(n: int, m: int) -> float:
    """Closed form of BC's expected fraction under U[0,1]: (n-m-1)(n+1) / (n(n-m))."""
    return (n - m - 1) * (n + 1) / (n * (n - m))


@lru_cache(maxsize=64)
def expected_order_stats(n: int, distribution: str) -> tuple[float, ...]:
    """E[b_i] for the i-th highest of ``n`` i.i.d. values (exact for uniform, quadrature otherwise)."""
    if distribution == "uniform":
        return tuple((n - i) / (n + 1) for i in range(n))
    from scipy import integrate, stats

    dist = {"beta": stats.beta(2.0, 5.0)}[distribution]
    out = []
    for i in range(n):
        r = n - i  # rank from the bottom (1 = lowest)
        coef = math.factorial(n) / (math.factorial(r - 1) * math.factorial(n - r))
        f = lambda x: x * coef * dist.cdf(x) ** (r - 1) * dist.sf(x) ** (n - r) * dist.pdf(x)  # noqa: E731
        out.append(integrate.quad(f, 0.0, 1.0, limit=200)[0])
    return tuple(out)


def rebate_weights(n: int, distribution: str) -> np.ndarray:
    """``w_j = E[sum_k o_{k,j}]``: expected total rebate of ``c = e_j``, shape (n-1,)."""
    e = expected_order_stats(n, distribution)
    # bidders ranked 0..j see b_{j+1} as their j-th other; the n-1-j below see b_j
    return np.array([(j + 1) * e[j + 1] + (n - 1 - j) * e[j] for j in range(n - 1)])


def expected_revenue(n: int, m: int, distribution: str) -> float:
    """Expected VCG revenue ``m * E[b_m]``."""
    return m * expected_order_stats(n, distribution)[m]


def expected_fraction(coeffs: np.ndarray, n: int, m: int, distribution: str) -> float:
    """Exact expected fraction of VCG revenue a linear rule redistributes."""
    return float(np.dot(coeffs, rebate_weights(n, distribution)) / expected_revenue(n, m, distribution))


def _vertex_rows(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Constraint rows at the ordered simplex's vertices: total rebates, revenues, IR rows."""
    totals, revenues = [], []
    for t in range(n + 1):  # t ones, then zeros
        row = np.zeros(n - 1)
        for j in range(n - 1):
            # bidders of rank < t (value 1) see j-th other = 1 iff j < t - 1; the others iff j < t
            row[j] = t * (j < t - 1) + (n - t) * (j < t)
        totals.append(row)
        revenues.append(m * (1.0 if t > m else 0.0))
    ir = np.tril(np.ones((n - 1, n - 1)))  # r(o) at o = t ones: sum_{j < t} c_j
    return np.array(totals), np.array(revenues), ir


def linear_worst_case(coeffs: np.ndarray, n: int, m: int) -> float:
    """Exact worst-case fraction of a linear rule (minimum over the vertices with revenue > 0)."""
    totals, revenues, _ = _vertex_rows(n, m)
    keep = revenues > 0
    return float(np.min(totals[keep] @ coeffs / revenues[keep]))


@lru_cache(maxsize=64)
def _oel_cached(n: int, m: int, distribution: str) -> tuple[float, ...]:
    from scipy.optimize import linprog

    totals, revenues, ir = _vertex_rows(n, m)
    res = linprog(
        -rebate_weights(n, distribution),
        A_ub=np.vstack([totals, -ir]),
        b_ub=np.concatenate([revenues, np.zeros(n - 1)]),
        bounds=[(None, None)] * (n - 1),
        method="highs",
    )
    if not res.success:  # pragma: no cover - the LP is feasible (c = 0) and bounded
        raise RuntimeError(f"OEL linear program failed: {res.message}")
    return tuple(float(v) for v in res.x)


def oel(n: int, m: int, distribution: str = "uniform") -> np.ndarray:
    """Optimal-in-expectation linear rule by linear programming (scipy HiGHS)."""
    check_setting(n, m)
    return np.array(_oel_cached(n, m, distribution))


def linear_rebate(coeffs: np.ndarray):
    """A vectorised rebate function ``h(others, n, m) = others @ coeffs`` for a linear rule."""
    c = np.asarray(coeffs, dtype=float)

    def h(others: np.ndarray, n: int, m: int) -> np.ndarray:
        return others @ c

    return h


#: The manual rules by key.
RULES = {"bailey_cavallo": bailey_cavallo, "wco": wco, "oel": oel}
