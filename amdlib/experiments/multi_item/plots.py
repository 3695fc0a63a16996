"""The multi-item notebook's figures and summary table (matplotlib is imported when a figure is
drawn). Type-square maps: red takes item 1, blue item 2, magenta the bundle, black nothing."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from amdlib.experiments.multi_item.run import reference_menu
from amdlib.experiments.shared import curve_rows, revenue_table
from amdlib.problems.multi_item.explain import allocation_image


def _short(label: str) -> str:
    return label.split(" (")[0]


def menus_figure(base: Mapping[str, Any], names: Sequence[str], menu: Any, learned: Mapping[str, Any],
                 result: Any) -> Any:
    """Who takes what under the first reference menu and under the learned menu; the search's progress
    against every reference revenue."""
    import matplotlib.pyplot as plt

    ref = names[0]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, (m, title) in zip(axes, [(reference_menu(base, ref), f"{_short(base[ref]['label'])}\n{base[ref]['revenue']:.4f}"),
                                     (menu, f"evolved + fixed\n{learned['revenue']:.4f} (holdout)")]):
        ax.imshow(allocation_image(m), origin="lower", extent=[0, 1, 0, 1])
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("v1")
        ax.set_ylabel("v2")
    curve = np.array(curve_rows(result), dtype=float)
    axes[2].step(curve[:, 0], curve[:, 1], "o-", where="post", ms=3, label="best evolved (search sample)")
    for name, style in zip(names, ("--", "-.", ":", (0, (1, 3)))):
        axes[2].axhline(base[name]["revenue"], ls=style, color="k", lw=1, label=_short(base[name]["label"]))
    axes[2].set_xlabel("candidates proposed")
    axes[2].set_ylabel("revenue")
    axes[2].legend(fontsize=7)
    axes[2].set_ylim(min(0.45, float(curve[:, 1].min())), None)
    axes[2].set_title("search progress", fontsize=10)
    fig.tight_layout()
    return fig


def rochetnet_figure(network: Any, net: Mapping[str, Any], optimum: float | None) -> Any:
    """RochetNet's menu on the type square, and its training curve (soft revenue on each batch)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    axes[0].imshow(allocation_image(network.menu), origin="lower", extent=[0, 1, 0, 1])
    axes[0].set_title(f"RochetNet menu {net['revenue']:.4f}", fontsize=10)
    axes[0].set_xlabel("v1")
    axes[0].set_ylabel("v2")
    steps, soft = zip(*network.curve)
    axes[1].plot(steps, soft, ".-", label="soft revenue (training batch)")
    if optimum is not None:
        axes[1].axhline(optimum, color="k", ls="--", lw=1, label="optimum")
    axes[1].set_xlabel("training step")
    axes[1].set_ylabel("revenue")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def summary_table(results: Mapping[str, Any], names: Sequence[str], learned: Mapping[str, Any],
                  net: Mapping[str, Any]) -> str:
    """The reference menus (exact) and the learned menu and RochetNet (holdout) as an HTML table."""
    base = results["baselines"]
    rows = [(base[n]["label"], base[n]["revenue"], "exact (quadrature)") for n in names]
    rows += [("evolved + fixed (holdout)", learned["revenue"],
              f"SE {learned['se']:.4f}, max regret {learned['audit']['max_regret']:.2g}"),
             ("RochetNet (holdout)", net["revenue"], f"SE {net['se']:.4f}, max regret {net['audit']['max_regret']:.2g}")]
    return revenue_table(rows, results["optimum_revenue"], digits=2)
