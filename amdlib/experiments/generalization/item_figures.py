"""The figure of one of Tables 3, 4, S10-S15 by setting: cost against K, one panel per n and test
distribution, every setting of the table drawn (the paper's printed numbers hollow and dashed, ours
filled and solid)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amdlib.experiments.generalization.item_data import Ours, Spec, item_settings, paper_column, paper_values

#: What each table shows, for its figure's title.
TITLES = {
    "ood": "mechanisms learned on uniform peaks, scored on other peak distributions",
    "larger_n": "mechanisms learned at n = 5, run unchanged at a larger n",
}


def _series(spec: Spec, ours: Ours) -> list[tuple[str, str, str, str, str]]:
    """(paper legend, paper table, paper column, our legend, our key, colour) per line drawn."""
    first = spec.panels[0].table
    weighted = item_settings(spec)[0].weighting == "fixed"
    learned = paper_column(spec, ours.params)
    out: list[tuple[str, str, str, str, str]] = []
    if spec.study == "larger_n":
        out.append((first, "Per.", "Per. refitted at this n", "per", "tab:gray"))
    else:
        out.append((first, "Per.", "Per. fitted in distribution", "per", "tab:gray"))
        if weighted:
            out.append((first, "Dict.", "Dict. fitted in distribution", "dict", "tab:purple"))
        ood = next((p.table for p in spec.panels if p.baselines == "ood"), None)
        if ood is not None:
            out.append((ood, "Per. (OOD)", "Per. fitted on uniform", "per_ood", "tab:green"))
    where = "learned at n = 5" if spec.study == "larger_n" else "learned on uniform"
    out.append((first, learned, where, "learned", "tab:blue"))
    out.append((first, "NonSP", "NonSP", "nonsp", "black"))
    return out


def _style(colour: str, paper: bool) -> dict[str, Any]:
    """The paper's numbers hollow and dashed, ours filled and solid."""
    if paper:
        return {"ls": "--", "marker": "o", "mfc": "none", "color": colour, "lw": 1.0, "ms": 6}
    return {"ls": "-", "marker": "o", "color": colour, "lw": 1.6, "ms": 4}


def draw(spec: Spec, ours: Ours, path: Path) -> None:
    """Draw the item's figure into ``path`` (PNG)."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    from amdlib.core.figures import canvas, save

    settings = item_settings(spec)
    ns = list(dict.fromkeys(s.n for s in settings))
    dists = list(dict.fromkeys(s.distribution for s in settings))
    paper = paper_values()
    series = _series(spec, ours)
    height = 3.0 * len(ns) + 1.5
    fig = canvas(3.5 * len(dists) + 0.4, height)
    for row, n in enumerate(ns):
        for col, dist in enumerate(dists):
            ax = fig.add_subplot(len(ns), len(dists), row * len(dists) + col + 1)
            here = [s for s in settings if s.n == n and s.distribution == dist]
            ks = [s.k for s in here]
            drawn_ours = False
            for table, column, mine, key, colour in series:
                pts = [(s.k, paper[(table, s.key, column)]) for s in here if (table, s.key, column) in paper]
                if pts:
                    ax.plot(*zip(*pts), **_style(colour, paper=True))
                pts = [(s.k, ours.cells[s].mean(key)) for s in here if s in ours.cells]
                pts = [(k, y) for k, y in pts if y is not None]
                if pts:
                    drawn_ours = True
                    ax.plot(*zip(*pts), **_style(colour, paper=False))
            if not drawn_ours:
                ax.text(0.5, 0.92, "no run of ours here", transform=ax.transAxes, ha="center", fontsize=8, color="0.4")
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_xticks(ks)
            ax.set_xlabel("K (facilities)", fontsize=9)
            if col == 0:
                ax.set_ylabel("social cost (test profiles)", fontsize=9)
            ax.set_title(f"n = {n}, {dist}", fontsize=10)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
    # one legend column per series: the paper's line above ours
    names = [name for table, column, mine, key, colour in series for name in (f"{column} (paper)", f"{mine} (ours)")]
    lines = [Line2D([], [], **_style(colour, paper)) for *_, colour in series for paper in (True, False)]
    fig.legend(lines, names, loc="lower center", ncol=len(series), fontsize=8, frameon=False)
    weighting = "fixed weights" if settings[0].weighting == "fixed" else "unweighted"
    fig.suptitle(f"{spec.label}: {TITLES[spec.study]} ({weighting})\nthe paper's printed numbers hollow and dashed, "
                 "ours filled and solid", fontsize=11)
    fig.tight_layout(rect=(0, 0.75 / height, 1, 1 - 0.2 / height))
    save(fig, path)


__all__ = ["draw", "TITLES"]
