"""Ground truths and baselines: two-price menus (separate sales, bundling, Manelli-Vincent).

A *two-price menu* offers each item alone at ``item`` and both at ``bundle``. It
contains selling separately (``bundle >= 2 item``), pure bundling (``item >= bundle``)
and, for two U[0, 1] items, the optimal mechanism of Manelli and Vincent (2006):
items at 2/3, the bundle at (4 - sqrt 2) / 3, revenue 0.5492.

Revenues are computed by one-dimensional integrals of the law's cdf and pdf (exact
up to quadrature error, ~1e-8), with the closed form for U[0, 1] beside them.
Every baseline is also re-scored by Monte Carlo on the holdout sample (with its SE)
so that it can be compared, paired, with the learned mechanism.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from amdlib.problems.multi_item.distributions import ValueLaw
from amdlib.problems.multi_item.menu import Menu, from_entries

#: Manelli-Vincent's optimum for two U[0, 1] items.
MV_ITEM = 2.0 / 3.0
MV_BUNDLE = (4.0 - math.sqrt(2.0)) / 3.0
#: Midpoints of the one-dimensional integrals.
_QUAD = 4000


def two_price_menu(item: float, bundle: float) -> Menu:
    """Each item alone at ``item``, both at ``bundle`` (plus the null entry)."""
    return from_entries([(1.0, 0.0, item), (0.0, 1.0, item), (1.0, 1.0, bundle)])


def _integral(fn, lo: float, hi: float) -> float:
    """Midpoint rule of a vectorised ``fn`` on [lo, hi] (0 when empty)."""
    if hi <= lo:
        return 0.0
    x = lo + (np.arange(_QUAD) + 0.5) * (hi - lo) / _QUAD
    return float(np.sum(fn(x)) * (hi - lo) / _QUAD)


def bundle_sale_probability(law: ValueLaw, price: float) -> float:
    """P(v1 + v2 >= price)."""
    below = _integral(lambda v: law.pdf(v) * law.cdf(price - v), 0.0, min(1.0, max(price, 0.0)))
    return 1.0 - below


def two_price_revenue(law: ValueLaw, item: float, bundle: float) -> float:
    """Expected revenue of the two-price menu (the bidder takes its best option), for
    ``bundle <= 2 item`` (a bundle dearer than both items is not a menu of this family:
    the bidder can take only one entry).

    With ``c = bundle - item`` in (0, item): item 1 alone sells iff v1 >= item and
    v2 <= c; the bundle iff v1, v2 >= c and v1 + v2 >= bundle.
    """
    if bundle > 2.0 * item + 1e-12:
        raise ValueError(f"two-price menus need bundle <= 2 item, got item {item}, bundle {bundle}")
    if bundle >= 2.0 * item:
        return 2.0 * item * (1.0 - float(law.cdf(item)))
    if bundle <= item:
        return bundle * bundle_sale_probability(law, bundle)
    c = bundle - item
    alone = (1.0 - float(law.cdf(item))) * float(law.cdf(c))
    corner = (1.0 - float(law.cdf(c))) ** 2
    cut = _integral(lambda v: law.pdf(v) * (law.cdf(bundle - v) - law.cdf(c)), c, item)
    return 2.0 * item * alone + bundle * (corner - cut)


def two_price_revenue_uniform(item: float, bundle: float) -> float:
    """The closed form of :func:`two_price_revenue` for two U[0, 1] items (0 <= item <= 1,
    bundle <= min(2, 2 item))."""
    if bundle > 2.0 * item + 1e-12:
        raise ValueError(f"two-price menus need bundle <= 2 item, got item {item}, bundle {bundle}")
    if bundle >= 2.0 * item:
        return 2.0 * item * (1.0 - item)
    if bundle <= item:
        return bundle * (1.0 - bundle**2 / 2.0) if bundle <= 1.0 else bundle * (2.0 - bundle) ** 2 / 2.0
    c = bundle - item
    return 2.0 * item * (1.0 - item) * c + bundle * ((1.0 - c) ** 2 - (2.0 * item - bundle) ** 2 / 2.0)


def best_item_price(law: ValueLaw) -> float:
    """Myerson's price for one item: argmax r (1 - F(r))."""
    res = optimize.minimize_scalar(lambda r: -r * (1.0 - float(law.cdf(r))), bounds=(0.0, 1.0), method="bounded",
                                   options={"xatol": 1e-10})
    return float(res.x)


def best_bundle_price(law: ValueLaw) -> float:
    """The revenue-maximising price of the bundle alone: argmax b P(v1 + v2 >= b)."""
    res = optimize.minimize_scalar(lambda b: -b * bundle_sale_probability(law, b), bounds=(0.0, 2.0),
                                   method="bounded", options={"xatol": 1e-10})
    return float(res.x)


def best_two_price_menu(law: ValueLaw) -> tuple[float, float]:
    """The best ``(item, bundle)`` pair (Nelder-Mead from the Manelli-Vincent prices)."""
    def loss(z: np.ndarray) -> float:
        item = float(np.clip(z[0], 0.0, 1.0))
        return -two_price_revenue(law, item, float(np.clip(z[1], 0.0, 2.0 * item)))

    res = optimize.minimize(loss, x0=[MV_ITEM, MV_BUNDLE],
                            method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 2000})
    return float(res.x[0]), float(res.x[1])


def reference_menus(law: ValueLaw) -> dict[str, dict[str, object]]:
    """The baselines of the law: name -> {item, bundle, revenue, label}; MV only for U[0, 1]."""
    item = best_item_price(law)
    bundle = best_bundle_price(law)
    out: dict[str, dict[str, object]] = {
        "separate": {"item": item, "bundle": 2.0 * item, "label": "selling separately (Myerson price per item)"},
        "bundling": {"item": bundle, "bundle": bundle, "label": "pure bundling (best bundle price)"},
    }
    if law.is_uniform:
        out["manelli_vincent"] = {"item": MV_ITEM, "bundle": MV_BUNDLE,
                                  "label": "Manelli-Vincent optimum (items 2/3, bundle (4 - sqrt 2)/3)"}
    else:
        a, b = best_two_price_menu(law)
        out["two_price"] = {"item": a, "bundle": b, "label": "best item + bundle price menu (computed)"}
    for spec in out.values():
        spec["revenue"] = two_price_revenue(law, float(spec["item"]), float(spec["bundle"]))
        if law.is_uniform:
            spec["closed_form"] = two_price_revenue_uniform(float(spec["item"]), float(spec["bundle"]))
    return out


def paired(ours: np.ndarray, theirs: np.ndarray) -> dict[str, float]:
    """Mean per-type revenue difference ``ours - theirs`` on the same sample, with its SE."""
    d = np.asarray(ours, dtype=float) - np.asarray(theirs, dtype=float)
    return {"difference": float(d.mean()), "se": float(d.std(ddof=1) / math.sqrt(len(d)))}


def mean_se(payments: np.ndarray) -> dict[str, float]:
    """Monte Carlo revenue and its standard error."""
    x = np.asarray(payments, dtype=float)
    return {"revenue": float(x.mean()), "se": float(x.std(ddof=1) / math.sqrt(len(x)))}
