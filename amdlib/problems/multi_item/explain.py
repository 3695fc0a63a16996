"""Words and pictures for a menu: what each entry is, and who takes what.

Used by the notebook to explain a learned menu in prose computed from the menu
itself (never typed in), and to draw the allocation map of the type square.
"""

from __future__ import annotations

import numpy as np

from amdlib.problems.multi_item.menu import Menu

#: Allocations within this of 0 or 1 count as deterministic.
_SURE = 0.01


def kind(x1: float, x2: float) -> str:
    """``nothing``, ``item 1``, ``item 2``, ``bundle`` or ``lottery`` for an allocation."""
    def sure(x: float) -> bool | None:
        return True if x >= 1 - _SURE else False if x <= _SURE else None

    a, b = sure(x1), sure(x2)
    if a is None or b is None:
        return "lottery"
    return {(False, False): "nothing", (True, False): "item 1", (False, True): "item 2", (True, True): "bundle"}[(a, b)]


def explain(rows: list[dict[str, float]], min_share: float = 0.005) -> str:
    """Markdown: the entries that at least ``min_share`` of the types take, in plain words.

    ``rows`` are :func:`.menu.usage` rows (allocation, price, share, revenue share).
    """
    lines = []
    shown = [r for r in rows if r["share"] >= min_share]
    for r in shown:
        what = kind(r["x1"], r["x2"])
        if what == "nothing":
            text = f"buy nothing (price {r['price']:.3f})"
        elif what == "lottery":
            text = (f"a lottery: item 1 with probability {r['x1']:.2f} and item 2 with probability "
                    f"{r['x2']:.2f}, for {r['price']:.3f}")
        else:
            text = f"{what} for {r['price']:.3f}"
        lines.append(f"* {text}: taken by {100 * r['share']:.1f}% of the types, "
                     f"{100 * r['revenue_share']:.1f}% of the revenue")
    rest = len(rows) - len(shown)
    if rest:
        share = sum(r["share"] for r in rows if r["share"] < min_share)
        lines.append(f"* {rest} more entries, taken by {100 * share:.1f}% of the types together")
    return "\n".join(lines)


def allocation_image(menu: Menu, points: int = 201, high: float = 1.0) -> np.ndarray:
    """An RGB image of the type square [0, high]^2 (v1 across, v2 up): red = P(item 1),
    blue = P(item 2); black buys nothing, magenta the bundle. Shape (points, points, 3)."""
    axis = np.linspace(0.0, high, points)
    a, b = np.meshgrid(axis, axis, indexing="xy")  # rows: v2, columns: v1
    x1, x2, _ = menu.outcome(a.ravel(), b.ravel())
    img = np.zeros((points, points, 3))
    img[..., 0] = x1.reshape(points, points)
    img[..., 2] = x2.reshape(points, points)
    return img


def price_image(menu: Menu, points: int = 201, high: float = 1.0) -> np.ndarray:
    """The payment of each type on the same square (rows: v2, columns: v1)."""
    axis = np.linspace(0.0, high, points)
    a, b = np.meshgrid(axis, axis, indexing="xy")
    return menu.payments(a.ravel(), b.ravel()).reshape(points, points)
