"""The fixing step: the menu a candidate induces, and the bidder's choice from it.

**Why the fixed mechanism is strategy-proof and individually rational (taxation
principle).** Evaluate the candidate at every type of a fixed grid; each output
``(x1, x2, p)`` (allocations clipped to [0, 1]) becomes a menu entry, and the null
entry ``(0, 0, 0)`` is added. The fixed mechanism offers this *finite, fixed* menu
and gives every reported type the entry that maximises the utility
``v1 * x1 + v2 * x2 - p`` of that report (ties: the higher price, then the lower index).

* SP: the menu does not depend on the report. A bidder with true values ``v`` who
  reports ``v'`` receives the entry chosen for ``v'``, which is one of the entries
  ``v`` could have taken; reporting ``v`` gives the entry that maximises the utility
  at ``v`` over *all* entries, so no misreport gains, for any ``v`` in the plane
  (not only grid types or sampled types).
* IR: the null entry has utility 0, so the chosen entry has utility >= 0.

The argmax is exact in floating point (no tolerance): the same formula is used for
the truthful and the misreported entry, so the audit's regret is exactly 0.
Entries with the same allocation but a higher price are never chosen and are
dropped; outputs are rounded (``DECIMALS``) so float noise does not split entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Allocations and payments are rounded to this many decimals before building the menu.
DECIMALS = 9
#: About this many utility values are held in memory at once when choosing.
_CHUNK_CELLS = 2_000_000


@dataclass(frozen=True)
class Menu:
    """A finite menu ``(x1[k], x2[k], p[k])``; entry 0 is the null allocation (0, 0).

    Its price is 0, or lower if the candidate offered nothing for a subsidy.
    """

    x1: np.ndarray
    x2: np.ndarray
    p: np.ndarray

    def __len__(self) -> int:
        return len(self.p)

    def utilities(self, v1: np.ndarray, v2: np.ndarray) -> np.ndarray:
        """Utility of every entry for every type, shape (n, K)."""
        return _utilities(np.asarray(v1, dtype=float), np.asarray(v2, dtype=float), self.x1, self.x2, self.p)

    def choose(self, v1: np.ndarray, v2: np.ndarray) -> np.ndarray:
        """Index of the entry each type takes: exact argmax of utility, ties to the higher price
        (then to the lower index)."""
        v1, v2 = np.ravel(np.asarray(v1, dtype=float)), np.ravel(np.asarray(v2, dtype=float))
        # argmax takes the first maximum: with the entries in order of decreasing price,
        # that is the tie rule, at no extra cost
        order = np.lexsort((np.arange(len(self)), -self.p))
        x1, x2, p = self.x1[order], self.x2[order], self.p[order]
        out = np.empty(len(v1), dtype=np.int64)
        step = max(1, _CHUNK_CELLS // max(1, len(self)))
        for lo in range(0, len(v1), step):
            out[lo:lo + step] = _utilities(v1[lo:lo + step], v2[lo:lo + step], x1, x2, p).argmax(axis=1)
        return order[out]

    def outcome(self, v1: np.ndarray, v2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Allocations and payment ``(x1, x2, p)`` of each type under the fixed mechanism."""
        k = self.choose(v1, v2)
        return self.x1[k], self.x2[k], self.p[k]

    def payments(self, v1: np.ndarray, v2: np.ndarray) -> np.ndarray:
        """The payment of each type (its per-type revenue)."""
        return self.p[self.choose(v1, v2)]

    def entries(self) -> list[tuple[float, float, float]]:
        """The menu as a list of ``(x1, x2, price)``."""
        return [(float(a), float(b), float(c)) for a, b, c in zip(self.x1, self.x2, self.p)]


def _utilities(v1: np.ndarray, v2: np.ndarray, x1: np.ndarray, x2: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``v1 x1 + v2 x2 - p`` for every (type, entry), elementwise in this fixed order (so every
    caller gets bit-identical utilities: the audit's exactness depends on it)."""
    u = v1[:, None] * x1[None, :]
    u += v2[:, None] * x2[None, :]
    u -= p[None, :]
    return u


def from_entries(entries: list[tuple[float, float, float]] | np.ndarray) -> Menu:
    """A menu from explicit entries ``(x1, x2, price)`` (the null entry is added, duplicates pruned)."""
    arr = np.asarray(entries, dtype=float).reshape(-1, 3)
    return induced_menu(arr[:, 0], arr[:, 1], arr[:, 2])


def distinct_entries(x1: np.ndarray, x2: np.ndarray, p: np.ndarray) -> Menu:
    """The distinct allocations among outputs, each at its lowest price (no null entry added).

    Allocations are clipped to [0, 1] (feasibility) and everything is rounded to
    ``DECIMALS``; a dearer copy of an allocation is never chosen, so it is dropped.
    """
    x1 = np.round(np.clip(np.ravel(np.asarray(x1, dtype=float)), 0.0, 1.0), DECIMALS)
    x2 = np.round(np.clip(np.ravel(np.asarray(x2, dtype=float)), 0.0, 1.0), DECIMALS)
    p = np.round(np.ravel(np.asarray(p, dtype=float)), DECIMALS)
    keys, inverse = np.unique(np.stack([x1, x2], axis=1), axis=0, return_inverse=True)
    best = np.full(len(keys), np.inf)
    np.minimum.at(best, inverse.ravel(), p)
    return Menu(keys[:, 0].copy(), keys[:, 1].copy(), best)


def induced_menu(x1: np.ndarray, x2: np.ndarray, p: np.ndarray) -> Menu:
    """The menu induced by a candidate's outputs on the grid (the fixing step).

    The distinct entries of the outputs plus the null entry (0, 0, 0), which is put
    first (its price is lower only if the candidate itself offered nothing for a subsidy).
    """
    x1, x2, p = (np.ravel(np.asarray(a, dtype=float)) for a in (x1, x2, p))
    menu = distinct_entries(np.append(0.0, x1), np.append(0.0, x2), np.append(0.0, p))
    null = int(np.flatnonzero((menu.x1 == 0.0) & (menu.x2 == 0.0))[0])
    order = np.array([null] + [i for i in range(len(menu)) if i != null])
    return Menu(menu.x1[order], menu.x2[order], menu.p[order])


def usage(menu: Menu, k: np.ndarray) -> list[dict[str, float]]:
    """Each entry taken by some type of a sample (``k = menu.choose(v1, v2)``): allocation, price,
    share of types, revenue share.

    Sorted by the share of types; entries nobody takes are left out (they cannot
    matter for revenue on this sample). The null entry is always listed.
    """
    counts = np.bincount(k, minlength=len(menu))
    revenue = float(np.sum(menu.p[k])) or 1.0
    rows = []
    for i in np.argsort(-counts, kind="stable"):
        if counts[i] == 0 and i != 0:
            continue
        rows.append({"x1": float(menu.x1[i]), "x2": float(menu.x2[i]), "price": float(menu.p[i]),
                     "share": float(counts[i] / len(k)),
                     "revenue_share": float(counts[i] * menu.p[i] / revenue)})
    return rows


def describe(rows: list[dict[str, float]], limit: int = 6) -> str:
    """A one-line text of the most used entries (for the proposer's feedback)."""
    parts = [f"(x1={r['x1']:.2f}, x2={r['x2']:.2f}, price {r['price']:.3f}: {100 * r['share']:.0f}% of types)"
             for r in rows[:limit]]
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return "menu entries taken: " + ", ".join(parts) + more
