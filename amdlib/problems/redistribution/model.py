"""The multi-unit VCG setting: value distributions, VCG revenue and the own-bid paths.

``m`` identical units are sold to ``n`` unit-demand bidders by VCG: the ``m``
highest bids win and each winner pays the ``(m+1)``-th highest bid, so the
revenue is ``m * b[m]`` for a profile ``b`` sorted in descending order
(0-indexed). A redistribution mechanism pays bidder ``k`` a rebate
``h(o_k)`` where ``o_k`` are the *others'* bids, sorted descending.

The fixing step needs, for every bidder ``k``, the total rebate of the other
bidders when ``k``'s own bid ``x`` moves over ``[0, 1]``. For bidder ``l``
that total involves ``h`` on ``sorted({x} | w_kl)`` where ``w_kl`` is the
profile without ``k`` and ``l``. We evaluate ``x`` at 1, at 0 and at every
other bid (the breakpoints where the order changes). Every such vector is a
fixed gather of the augmented profile ``[1, b_0, ..., b_{n-1}, 0]``, so a
:class:`PathIndex` built once per ``n`` turns profiles into all the query
vectors with one fancy-indexing call.

This module imports numpy only: the sandboxed harness uses it.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

#: Value distributions on [0, 1] by name: (description, sampler(rng, shape)).
DISTRIBUTIONS = {
    "uniform": ("U[0,1]", lambda rng, shape: rng.uniform(0.0, 1.0, shape)),
    "beta": ("Beta(2,5)", lambda rng, shape: rng.beta(2.0, 5.0, shape)),
}


def sample_profiles(rng: np.random.Generator, count: int, n: int, distribution: str = "uniform") -> np.ndarray:
    """``count`` i.i.d. bid profiles of ``n`` bidders, each sorted descending: shape (count, n)."""
    values = DISTRIBUTIONS[distribution][1](rng, (count, n))
    return -np.sort(-values, axis=1)


def vcg_revenue(profiles: np.ndarray, m: int) -> np.ndarray:
    """VCG revenue ``m * (m+1)-th highest bid`` of sorted profiles, shape (P,)."""
    return m * profiles[:, m]


def augment(profiles: np.ndarray) -> np.ndarray:
    """``[1, b_0, ..., b_{n-1}, 0]``: the profile with the extreme own bids added."""
    p = profiles.shape[0]
    return np.concatenate([np.ones((p, 1)), profiles, np.zeros((p, 1))], axis=1)


@dataclass(frozen=True)
class PathIndex:
    """Index tables for one ``n`` (positions refer to the augmented profile).

    ``gather`` (V, n-1): augmented positions of each query vector; the first
    ``n`` rows are the actual others' vectors ``o_k``. ``path`` (n, n+1, n-1):
    for bidder ``k``, own-bid point ``t`` and each other bidder, the query row
    holding that bidder's others' vector. ``own_bid`` (n, n+1): augmented
    position of the own bid at point ``t`` (1, 0, then the others' bids).
    ``others`` (n, n-1): augmented positions of ``o_k``.
    """

    n: int
    gather: np.ndarray
    path: np.ndarray
    own_bid: np.ndarray
    others: np.ndarray

    @property
    def n_queries(self) -> int:
        return int(self.gather.shape[0])


@functools.lru_cache(maxsize=32)
def path_index(n: int) -> PathIndex:
    """Build (and cache) the :class:`PathIndex` for ``n`` bidders."""
    pos = list(range(1, n + 1))  # augmented position of the bid of rank p
    top, bottom = 0, n + 1
    rows: list[list[int]] = [sorted(pos[p] for p in range(n) if p != k) for k in range(n)]
    pair_row: dict[tuple[int, int, int], int] = {}
    for k, l in itertools.combinations(range(n), 2):
        rest = [pos[p] for p in range(n) if p not in (k, l)]
        for x in [top, bottom] + rest:
            pair_row[(k, l, x)] = len(rows)
            rows.append(sorted(rest + [x]))
    path = np.zeros((n, n + 1, n - 1), dtype=np.int64)
    own_bid = np.zeros((n, n + 1), dtype=np.int64)
    for k in range(n):
        points = [top, bottom] + [pos[p] for p in range(n) if p != k]
        others = [l for l in range(n) if l != k]
        for t, x in enumerate(points):
            own_bid[k, t] = x
            for j, l in enumerate(others):
                if x == pos[l]:  # k bids exactly l's bid: l sees k's others' vector
                    path[k, t, j] = k
                else:
                    path[k, t, j] = pair_row[(min(k, l), max(k, l), x)]
    others_pos = np.array([[pos[p] for p in range(n) if p != k] for k in range(n)], dtype=np.int64)
    return PathIndex(n, np.array(rows, dtype=np.int64), path, own_bid, others_pos)


def queries(profiles: np.ndarray) -> np.ndarray:
    """All query vectors of sorted ``profiles`` (P, n): shape (V * P, n-1), query-major.

    Row ``v * P + p`` is query ``v`` of profile ``p``, so the candidate's
    outputs reshape to (V, P) and the fix gathers whole rows (fast copies).
    """
    n = profiles.shape[1]
    index = path_index(n)
    return augment(profiles)[:, index.gather].transpose(1, 0, 2).reshape(-1, n - 1)


def n_queries(n: int) -> int:
    """Number of query vectors per profile: ``n + n * C(n, 2)``."""
    return n + n * math.comb(n, 2)


def check_setting(n: int, m: int) -> None:
    """Raise ``ValueError`` unless ``1 <= m <= n - 2`` (m = n - 1 leaves nothing to redistribute)."""
    if not (n >= 3 and 1 <= m <= n - 2):
        raise ValueError(f"need 3 <= n and 1 <= m <= n - 2, got n={n}, m={m}")
