"""Figures of the report: ours beside the paper's numbers, one figure per paper table.

Every number plotted as "ours" is read from a run's results.json through the experiment's
``paper_rows`` hook (an experiment draws its own paper items with its ``paper_figures`` hook);
the paper's numbers come from the hook's rows and are drawn hollow and labelled as the paper's. Figures are drawn with matplotlib's Agg canvas (no
global pyplot state) at a size meant to be shown 1:1, so their text stays legible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from amdlib.core.figures import canvas as _canvas, save as _save
from amdlib.pipeline.report_tables import NOT_COMPARABLE, number

MAX_ROWS = 40  # rows of one comparison figure; more are left to the table


@dataclass
class Drawn:
    """A figure written to ``path`` with the caption the page shows under it (and its anchor)."""

    path: Path
    caption: str
    anchor: str = ""


def _short(text: str, width: int = 58) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def comparison_figure(title: str, rows: Sequence[Mapping[str, Any]], path: Path) -> Drawn | None:
    """A dot plot of one paper table: each row's paper value (hollow) and ours (filled, with
    its SE as an error bar when the row has ``ours_se``); None when no row has a number."""
    seen, plotted = set(), []
    for row in rows:
        key = (row.get("setting"), row.get("metric"), number(row.get("paper")), number(row.get("ours")))
        if key in seen or (key[2] is None and key[3] is None):
            continue
        seen.add(key)
        plotted.append(row)
    if not plotted:
        return None
    shown = plotted[:MAX_ROWS]
    height = 1.9 + 0.4 * len(shown)
    fig = _canvas(11, height)
    ax = fig.add_subplot(1, 1, 1)
    ys = list(range(len(shown)))[::-1]
    labels = []
    for y, row in zip(ys, shown):
        mark = " \u2020" if row.get("reason") == NOT_COMPARABLE else ""
        labels.append(_short(f"{row.get('metric')} | {row.get('setting')}") + mark)
        paper, ours = number(row.get("paper")), number(row.get("ours"))
        if paper is not None:
            ax.plot([paper], [y], "o", mfc="none", mec="black", ms=8, label="paper (as published)")
        if ours is not None:
            ax.errorbar([ours], [y], xerr=number(row.get("ours_se")), fmt="o", color="tab:red", ms=6, capsize=3,
                        label="ours (this repository's runs)")
    ax.set_yticks(ys, labels, fontsize=10)
    ax.set_ylim(-0.7, len(shown) - 0.3)
    ax.set_title(title, fontsize=12)
    ax.tick_params(axis="x", labelsize=10)
    ax.grid(axis="x", alpha=0.3)
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles))
    fig.legend(unique.values(), unique.keys(), fontsize=10, loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.45 / height, 1, 1))  # half an inch below for the legend
    _save(fig, path)
    caption = f"{title}: paper's number (hollow) beside ours (filled) for {len(shown)} rows"
    if len(plotted) > len(shown):
        caption += f" (first {len(shown)} of {len(plotted)}; the table lists all)"
    if any(r.get("reason") == NOT_COMPARABLE for r in shown):
        caption += "; \u2020 the paper's setting differs, so the two are shown side by side, not compared"
    return Drawn(path, caption + ".")

