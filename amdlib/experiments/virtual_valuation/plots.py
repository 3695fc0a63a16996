"""The virtual-valuation notebook's figures (matplotlib is imported when one is drawn)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np


def rescale_to(target: np.ndarray, learned: np.ndarray, grid: np.ndarray, lo: float = 0.05) -> np.ndarray:
    """Positive rescale ``a * learned`` that best fits ``target`` (least squares on bids
    >= ``lo`` where both are finite). A positive factor keeps both the ranking and the
    sign, so the drawn zero crossing is still the learned reserve."""
    ok = (grid >= lo) & np.isfinite(target) & np.isfinite(learned)
    x, y = learned[ok], target[ok]
    denom = float(x @ x)
    scale = float(x @ y) / denom if denom > 0 else 0.0
    return scale * learned if scale > 0 else learned


def priority_figure(problem: Any, truth: Mapping[str, Any], found: Mapping[str, Any]) -> Any:
    """The learned, fixed priority (rescaled) against Myerson's virtual value, with both reserves."""
    import matplotlib.pyplot as plt

    grid = problem.grid
    true_phi = problem.dist.virtual_value(grid)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(grid, true_phi, lw=2.5, color="0.6", label="Myerson virtual value")
    ax.plot(grid, rescale_to(true_phi, found["priority"], grid), lw=1.5, color="C0", label="learned priority (rescaled)")
    ax.axvline(truth["myerson_reserve"], color="0.4", ls="--", lw=1, label="Myerson reserve")
    ax.axvline(found["reserve"], color="C3", ls=":", lw=1.5, label="learned reserve")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylim(-1.5, 1.1)
    ax.set_xlabel("bid")
    ax.set_ylabel("priority")
    ax.legend(loc="lower right")
    ax.set_title(f"{truth['setting']['distribution']}, {truth['setting']['n_bidders']} bidders")
    return fig


def curves_figure(runs: Mapping[str, Any], optimum: float) -> Any:
    """Best search revenue against candidates evaluated, one line per search method."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for label, res in runs.items():
        xs, ys = zip(*res.curve())
        ax.step(xs, ys, where="post", label=label)
    ax.axhline(optimum, color="0.5", ls="--", label="Myerson optimum")
    ax.set_xlabel("candidates evaluated")
    ax.set_ylabel("best search revenue")
    ax.set_ylim(bottom=0)
    ax.legend()
    return fig
