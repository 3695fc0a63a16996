"""The redistribution notebook's figures (matplotlib is imported when one is drawn)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from amdlib.problems.redistribution.evaluation import Mechanism


def rebate_curve(mech: Mechanism, others: np.ndarray, q: int, grid: np.ndarray) -> np.ndarray:
    """Fixed rebate of a bidder whose others are ``others`` with order statistic ``q`` set to each grid value.

    The bidder's own bid is put at 0 (its rebate does not depend on it).
    """
    rows = np.repeat(np.asarray(others, float)[None], grid.size, axis=0)
    rows[:, q] = grid
    profiles = -np.sort(-np.concatenate([rows, np.zeros((grid.size, 1))], axis=1), axis=1)
    return mech(profiles)["rebates"][:, -1]


def rebate_figure(mechanisms: Mapping[str, Mechanism], n: int, m: int) -> Any:
    """One bidder's fixed rebate as the others' (m+1)-th and m-th highest bids move (the rest of the
    others held at a typical profile), for each mechanism."""
    import matplotlib.pyplot as plt

    base = np.linspace(0.9, 0.1, n - 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, q in zip(axes, (m, m - 1)):
        lo, hi = (base[q + 1] if q + 1 < n - 1 else 0.0), base[q - 1] if q > 0 else 1.0
        grid = np.linspace(lo, hi, 41)
        for (name, mech), style in zip(mechanisms.items(), ("-", "--", ":", "-.")):
            ax.plot(grid, rebate_curve(mech, base, q, grid), style, label=name)
        ordinal = {1: "highest", 2: "2nd highest", 3: "3rd highest"}.get(q + 1, f"{q + 1}th highest")
        ax.set_xlabel(f"others' {ordinal} bid")
        ax.set_ylabel("rebate")
    axes[0].legend()
    fig.suptitle(f"rebate of one bidder, n={n}, m={m}; other bids {np.round(base, 2).tolist()}")
    return fig


def draw_table(ax: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Holdout fraction given back by BC, WCO, OEL and the learned rule (± SE) in each valid table setting, on ``ax``."""
    valid = [r for r in rows if r["valid"]]
    x = np.arange(len(valid))
    for off, key, label in ((-0.3, "bailey_cavallo", "BC"), (-0.1, "wco", "WCO"), (0.1, "oel", "OEL"),
                            (0.3, "learned", "learned")):
        errors = [r["learned_se"] for r in valid] if key == "learned" else None
        ax.bar(x + off, [r[key] for r in valid], width=0.2, yerr=errors, label=label)
    ax.set_xticks(x, [r["setting"] for r in valid])
    ax.set_xlim(-0.5, max(len(valid), 3) - 0.5)  # one setting alone keeps the bars' width
    ax.set_ylabel("expected fraction redistributed")
    ax.set_ylim(0, 1.15)
    ax.legend(ncol=4, loc="upper center", fontsize=8)


def table_figure(rows: Sequence[Mapping[str, Any]]) -> Any:
    """Holdout fraction given back by BC, WCO, OEL and the learned rule in each valid table setting."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6))
    draw_table(ax, rows)
    ax.set_title("holdout fraction of VCG revenue given back")
    return fig
