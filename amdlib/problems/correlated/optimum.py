"""The revenue-optimal deterministic SP/IR mechanism, by mixed-integer programming.

Every deterministic SP and ex-post IR mechanism of this setting is a
threshold mechanism (see :mod:`.mechanism`), so the optimum is a choice of one
threshold level per bidder and per bid of the other, such that no profile has
two winners. Binary ``z1[k, b]`` = "bidder 1's threshold given b is level k"
(k = G: never wins), likewise ``z2[k, a]``; bidder 1 wins at (a, b) iff
sum_{k <= a} z1[k, b] = 1. Objective and constraints are linear in z.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, vstack

from amdlib.problems.correlated.distribution import GridLaw, tail
from amdlib.problems.correlated.mechanism import Thresholds, revenue


@dataclass(frozen=True)
class Optimum:
    """The MILP's mechanism, its exact revenue, and the solve time (seconds)."""

    mechanism: Thresholds
    revenue: float
    seconds: float


def optimal_mechanism(law: GridLaw, time_limit: float = 60.0) -> Optimum:
    """Solve the MILP (HiGHS through scipy) and return the optimal threshold mechanism."""
    g, v, pmf = law.grid_size, law.values, law.pmf
    n = g + 1  # threshold choices per column
    # Expected payment of bidder 1 when its threshold given b is k: v_k * P(A >= k, B = b).
    gain1 = np.zeros((n, g))
    gain1[:g] = v[:, None] * tail(pmf)
    gain2 = np.zeros((n, g))  # by symmetry of roles: v_k * P(B >= k, A = a)
    gain2[:g] = v[:, None] * tail(pmf.T)
    cost = -np.concatenate([gain1.ravel(), gain2.ravel()])  # variable z[k, col] at k * g + col
    nvar = 2 * n * g

    # One threshold per column: sum_k z[k, col] = 1.
    rows, cols = [], []
    for who in range(2):
        for col in range(g):
            rows += [who * g + col] * n
            cols += [who * n * g + k * g + col for k in range(n)]
    choose = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(2 * g, nvar))

    # At most one winner at (a, b): sum_{k<=a} z1[k, b] + sum_{k<=b} z2[k, a] <= 1.
    rows, cols = [], []
    for a in range(g):
        for b in range(g):
            r = a * g + b
            rows += [r] * (a + 1 + b + 1)
            cols += [k * g + b for k in range(a + 1)]
            cols += [n * g + k * g + a for k in range(b + 1)]
    conflict = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(g * g, nvar))

    lower = np.concatenate([np.ones(2 * g), np.full(g * g, -np.inf)])
    upper = np.ones(2 * g + g * g)
    start = time.perf_counter()
    res = milp(
        cost,
        constraints=LinearConstraint(vstack([choose, conflict]).tocsr(), lower, upper),
        integrality=np.ones(nvar),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit, "mip_rel_gap": 1e-9},
    )
    seconds = time.perf_counter() - start
    if res.x is None:
        raise RuntimeError(f"MILP failed: {res.message}")
    z = np.round(res.x).reshape(2, n, g)
    mech = Thresholds(np.argmax(z[0], axis=0).astype(int), np.argmax(z[1], axis=0).astype(int))
    return Optimum(mech, revenue(mech, v, pmf), seconds)
