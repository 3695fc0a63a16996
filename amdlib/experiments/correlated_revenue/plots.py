"""The correlated-revenue notebook's figures and summary table (matplotlib is imported when a
figure is drawn). Allocation maps show P(bidder 1 wins) - P(bidder 2 wins) over the bid grid."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from amdlib.experiments.shared import revenue_table


def who_wins(x1: Any, x2: Any) -> np.ndarray:
    """P(bidder 1 wins) - P(bidder 2 wins) on each profile: +1 red, -1 blue, 0 (unsold) white."""
    return np.asarray(x1) - np.asarray(x2)


def show_map(ax: Any, table: np.ndarray, title: str) -> Any:
    """Draw an allocation map on ``ax`` (bidder 1's bid across, bidder 2's up)."""
    im = ax.imshow(table.T, origin="lower", extent=[0, 1, 0, 1], cmap="coolwarm", vmin=-1, vmax=1)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("bid of bidder 1")
    ax.set_ylabel("bid of bidder 2")
    return im


def allocations_figure(base: Mapping[str, Any], fixed: Any, learned: Mapping[str, Any], result: Any) -> Any:
    """Who wins where under the MILP optimum and the evolved, fixed rule; and the search's progress."""
    import matplotlib.pyplot as plt

    from amdlib.problems.correlated.mechanism import Thresholds

    opt = base["optimum"]
    opt_mech = Thresholds(np.array(opt["mechanism"]["t1"]), np.array(opt["mechanism"]["t2"]))
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    show_map(axes[0], who_wins(*opt_mech.allocation()), f"optimum (MILP) {opt['revenue']:.4f}")
    show_map(axes[1], who_wins(*fixed.mechanism.allocation()), f"evolved + fixed {learned['revenue']:.4f}")
    curve = np.array(result.curve(), dtype=float)
    axes[2].plot(curve[:, 0], curve[:, 1], label="best evolved so far")
    axes[2].axhline(opt["revenue"], color="k", ls="--", label="optimum")
    axes[2].axhline(base["spa_reserve"]["revenue"], color="gray", ls=":", label="second price + reserve")
    axes[2].set_xlabel("candidates proposed")
    axes[2].set_ylabel("exact revenue")
    axes[2].legend(fontsize=8)
    axes[2].set_title("search progress", fontsize=10)
    fig.tight_layout()
    return fig


def distillation_figure(network: Any, nna_fixed: Any, nna: Mapping[str, Any]) -> Any:
    """The network's (randomised) allocation beside the distilled code's fixed one."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    show_map(axes[0], who_wins(network.tables["x1"], network.tables["x2"]), f"RegretNet {network.revenue:.4f}")
    im = show_map(axes[1], who_wins(*nna_fixed.mechanism.allocation()), f"distilled code (fixed) {nna['revenue']:.4f}")
    fig.colorbar(im, ax=axes, shrink=0.8, label="P(bidder 1 wins) - P(bidder 2 wins)")
    return fig


def draw_sweep(ax: Any, sweep: Sequence[Mapping[str, float]], learned: Sequence[Mapping[str, float]], grid_size: int,
               tag: str = "", colour: str | None = None) -> None:
    """On ``ax``: the optimum and the baselines against rho (none when ``sweep`` is empty), and the
    learned markers (evolved, RegretNet, NNA) at their rho values, their labels ending in ``tag``
    (in ``colour``, else the next colours of the cycle)."""
    tint = {} if colour is None else {"color": colour}
    ax.set_xlabel("rho (probability of equal values)")
    ax.set_ylabel("expected revenue")
    ax.set_title(f"{grid_size} value levels, two bidders", fontsize=10)
    if sweep:
        rhos = [r["rho"] for r in sweep]
        ax.plot(rhos, [r["optimum"] for r in sweep], "k-", lw=2, label="optimum (MILP)")
        ax.plot(rhos, [r["myerson_marginals"] for r in sweep], "--", label="Myerson on marginals")
        ax.plot(rhos, [r["spa_reserve"] for r in sweep], ":", label="second price + best reserve")
    at = [r["rho"] for r in learned]
    if not at:
        return
    ax.plot(at, [r["learned"] for r in learned], "o", ms=8, label="evolved + fixed" + tag, **tint)
    ax.plot(at, [r["regretnet"] for r in learned], "s", mfc="none", ms=8, label="RegretNet (regret > 0)" + tag, **tint)
    ax.plot(at, [r["nna"] for r in learned], "^", ms=7, label="NNA distilled + fixed" + tag, **tint)


def sweep_figure(sweep: Sequence[Mapping[str, float]], learned: Sequence[Mapping[str, float]], grid_size: int,
                 paper: float) -> Any:
    """Optimum and baselines against rho, the learned markers, and the paper's figure as reported."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    draw_sweep(ax, sweep, learned, grid_size)
    ax.axhline(paper, color="gray", lw=0.8, ls="-.", label="paper, reported for its own setting")
    ax.legend(fontsize=8)
    return fig


def summary_table(results: Mapping[str, Any], network: Any, paper: float) -> str:
    """The run's figures as an HTML table; the paper's appears only as reported for its own setting."""
    base = results["baselines"]
    rows = [
        ("optimum (MILP)", results["optimum_revenue"], "exact SP/IR"),
        ("evolved + fixed", results["best"]["revenue"], f"regret {results['audit']['max_regret']:.2g}"),
        ("RegretNet", network.revenue, f"expected regret {network.audit['expected_regret']:.4f}"),
        ("NNA distilled + fixed", base["nna"]["revenue"], f"L2 gap {base['nna']['l2_to_network']:.4f}"),
        ("Myerson on marginals", base["myerson_marginals"]["revenue"], "exact SP/IR"),
        ("second price + reserve", base["spa_reserve"]["revenue"], "exact SP/IR"),
        ("greedy ironed conditional VV", base["greedy_ironed"]["revenue"],
         "audited: " + ("SP/IR, feasible" if base["greedy_ironed"]["feasible"] else "not feasible")),
        ("bound E[max(ironed cond. VV, 0)]", base["greedy_bound"]["revenue"], "upper bound, not a mechanism"),
        ("paper (its own setting)", paper, "reported, not comparable"),
    ]
    return revenue_table(rows, results["optimum_revenue"], digits=1)
