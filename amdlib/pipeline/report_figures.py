"""Figures of the report: ours beside the paper's numbers, one figure per paper table.

Every number plotted as "ours" is read from a run's results.json (through the experiment's
``paper_tables`` hook, or for facility location's Table 1 straight from its results); the
paper's numbers come from the hook's rows or ``amdlib/data/paper/<experiment>.csv`` and are
drawn hollow and labelled as the paper's. Figures are drawn with matplotlib's Agg canvas (no
global pyplot state) at a size meant to be shown 1:1, so their text stays legible.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from amdlib.pipeline.catalog import RunRecord, lookup
from amdlib.pipeline.report_tables import NOT_COMPARABLE, number

DPI = 100
MAX_ROWS = 40  # rows of one comparison figure; more are left to the table


@dataclass
class Drawn:
    """A figure written to ``path`` with the caption the page shows under it."""

    path: Path
    caption: str


def _canvas(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path) -> None:
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    os.replace(tmp, path)


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


# -- facility location, Table 1: 32 cells (fixed weights, n = 5, 10; K = 1..4; four distributions)

TABLE1_N = (5, 10)
TABLE1_K = (1, 2, 3, 4)
TABLE1_DIST = ("uniform", "normal", "beta1", "beta2")
#: The paper's columns drawn, hollow: CSV metric -> legend name.
PAPER_SERIES = {"per": "Per.", "moulinnet": "MoulinNet", "llmmech": "LLMMech", "llmmech_e": "LLMMech-e"}
_PAPER_STYLE = {"per": ("o", "dimgray"), "moulinnet": ("s", "tab:blue"), "llmmech": ("^", "tab:green"),
                "llmmech_e": ("v", "tab:purple")}
#: Our series, filled: name -> (marker, colour).
_OURS_STYLE = {"ours: learned": ("D", "tab:red"), "ours: Per.": ("o", "black"), "ours: MoulinNet": ("s", "navy")}


def _table1_setting(n: int, k: int, dist: str) -> str:
    return f"n={n} K={k} {dist} weights=fixed"


def facility_paper_cells(csv_rows: Iterable[Mapping[str, str]]) -> dict[tuple[int, int, str], dict[str, float]]:
    """The paper's Table-1 numbers by (n, K, distribution) from the transcribed CSV rows."""
    index = {_table1_setting(n, k, d): (n, k, d) for n in TABLE1_N for k in TABLE1_K for d in TABLE1_DIST}
    cells: dict[tuple[int, int, str], dict[str, float]] = defaultdict(dict)
    for row in csv_rows:
        cell = index.get(row.get("setting", ""))
        value = number(_float(row.get("value")))
        if row.get("table") == "Table 1" and cell and value is not None:
            cells[cell][row["metric"]] = value
    return dict(cells)


def _float(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def facility_our_cells(records: Iterable[RunRecord]) -> dict[tuple[int, int, str], dict[str, list[tuple[float, float | None]]]]:
    """Our Table-1 numbers by cell and series, as (value, SE or None), from each complete run's
    own setting (fixed weights only) and the Table-1 grid it ran in-notebook, if any."""
    ours: dict[tuple[int, int, str], dict[str, list[tuple[float, float | None]]]] = defaultdict(lambda: defaultdict(list))

    def add(cell: tuple[int, int, str], series: str, value: Any, se: Any = None) -> None:
        if number(value) is not None and math.isfinite(value):
            ours[cell][series].append((float(value), number(se)))

    for rec in records:
        res, params = rec.results, rec.params
        if number(params.get("epsilon", 0.0)) not in (None, 0.0):
            continue  # Table 1 is for exact strategy-proofness (epsilon 0)
        if str(params.get("weights")) == "fixed":
            cell = (params.get("n_agents"), params.get("n_facilities"), params.get("distribution"))
            add(cell, "ours: learned", lookup(res, "best.test_social_cost"), lookup(res, "best.test_social_cost_se"))
            add(cell, "ours: Per.", lookup(res, "baselines.percentile.social_cost"), lookup(res, "baselines.percentile.social_cost_se"))
            add(cell, "ours: MoulinNet", lookup(res, "baselines.moulinnet.social_cost"), lookup(res, "baselines.moulinnet.social_cost_se"))
        for row in lookup(res, "table1.rows") or []:  # the in-notebook Table-1 grid (fixed weights, epsilon 0)
            if isinstance(row, dict):
                cell = (row.get("n"), row.get("K"), row.get("distribution"))
                add(cell, "ours: learned", row.get("learned"), row.get("learned_se"))
                add(cell, "ours: Per.", row.get("percentile"), row.get("percentile_se"))
    return {k: dict(v) for k, v in ours.items()}


def _pooled(values: list[tuple[float, float | None]]) -> tuple[float, float | None]:
    """Mean of several runs' values with the SE across them; one value keeps its own SE."""
    xs = [v for v, _ in values]
    if len(xs) == 1:
        return xs[0], values[0][1]
    mean = sum(xs) / len(xs)
    var = sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)
    return mean, math.sqrt(var / len(xs))


def facility_table1_figure(records: Sequence[RunRecord], csv_rows: Iterable[Mapping[str, str]], path: Path) -> Drawn | None:
    """Table 1's 32 cells: the paper's Per., MoulinNet, LLMMech and LLMMech-e (hollow) beside
    ours (filled; error bars: SE over runs or the run's own SE). None without paper numbers."""
    paper = facility_paper_cells(csv_rows)
    if not paper:
        return None
    ours = facility_our_cells(records)
    cells_of = {n: [(n, k, d) for k in TABLE1_K for d in TABLE1_DIST] for n in TABLE1_N}
    fig = _canvas(12.5, 8.5)
    series = [("paper", m) for m in PAPER_SERIES] + [("ours", s) for s in _OURS_STYLE]
    offsets = {s: -0.33 + 0.66 * i / (len(series) - 1) for i, s in enumerate(series)}
    covered = 0
    for row, n in enumerate(TABLE1_N):
        ax = fig.add_subplot(2, 1, row + 1)
        for x, cell in enumerate(cells_of[n]):
            for metric, legend in PAPER_SERIES.items():
                if metric in paper.get(cell, {}):
                    marker, colour = _PAPER_STYLE[metric]
                    ax.plot([x + offsets["paper", metric]], [paper[cell][metric]], marker, mfc="none", mec=colour, ms=7,
                            mew=1.4, label=f"paper: {legend}")
            mine = ours.get(cell, {})
            covered += bool(mine.get("ours: learned"))
            for name, values in mine.items():
                mean, se = _pooled(values)
                marker, colour = _OURS_STYLE[name]
                ax.errorbar([x + offsets["ours", name]], [mean], yerr=se, fmt=marker, color=colour, ms=6, capsize=3,
                            label=name)
        ax.set_yscale("log")
        ax.set_xticks(range(len(cells_of[n])), [f"K={k}\n{d}" for _, k, d in cells_of[n]], fontsize=9)
        ax.tick_params(axis="y", labelsize=10)
        ax.set_ylabel("social cost (test, log scale)", fontsize=10)
        ax.set_title(f"n = {n} agents, fixed weights", fontsize=11)
        ax.grid(axis="y", alpha=0.3, which="both")
        for boundary in range(4, len(cells_of[n]), 4):
            ax.axvline(boundary - 0.5, color="lightgray", lw=1)
    handles, names = [], []
    for ax in fig.axes:
        for h, name in zip(*ax.get_legend_handles_labels()):
            if name not in names:
                handles.append(h)
                names.append(name)
    fig.legend(handles, names, loc="lower center", ncol=min(7, len(names)), fontsize=10, frameon=False)
    fig.suptitle("Facility location, Table 1: social cost, the paper's mechanisms beside ours", fontsize=12)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    _save(fig, path)
    runs_used = sum(1 for r in records if r.results)
    caption = (f"Facility location, paper Table 1 (32 cells: n = 5 and 10, K = 1 to 4, four distributions, fixed weights). "
               f"Hollow: the paper's Per., MoulinNet, LLMMech and LLMMech-e as published; filled: ours from "
               f"{runs_used} run(s) here, learned mechanism in {covered} of 32 cells (error bars: SE over runs, or the "
               f"run's own SE, where one exists). Cells without filled markers were not run here.")
    return Drawn(path, caption)
