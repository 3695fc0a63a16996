"""The facility-location paper items' drawings (off-screen, :mod:`amdlib.core.figures`).

- :func:`cells_figure`: a table's settings along x, the paper's printed numbers hollow and ours
  filled (Tables 1, 2, S6, S8, S9).
- :func:`boxes_figure`: box plots over weight sets of each baseline's cost minus ours, one panel
  per setting (Figures 1, S6, S10).
- :func:`epsilon_figure`: cost and regret differences and our regret against epsilon (Figure S9).
- :func:`regretnet_figure`: RegretNet on 1k against 25k profiles by K (Figure S7's stand-in).
- :func:`code_figure`: learned programs printed as code (Figures 2 and S8's stand-ins).

Each takes the numbers to draw and a path; the captions are the callers' (they know what ours is).
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Mapping, Sequence

from amdlib.core.figures import canvas, save

Cell = tuple[int, int, str]
#: (marker, colour) of a series.
Style = tuple[str, str]


def _pooled(values: Sequence[tuple[float, float | None]]) -> tuple[float, float | None]:
    """Mean of several values with the SE across them; one value keeps its own SE."""
    xs = [v for v, _ in values]
    if len(xs) == 1:
        return xs[0], values[0][1]
    mean = sum(xs) / len(xs)
    return mean, math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1) / len(xs))


def _legend(fig, ncol: int = 7) -> None:
    handles, names = [], []
    for ax in fig.axes:
        for h, name in zip(*ax.get_legend_handles_labels()):
            if name not in names:
                handles.append(h)
                names.append(name)
    if handles:
        fig.legend(handles, names, loc="lower center", ncol=min(ncol, len(names)), fontsize=10, frameon=False)


def cells_figure(grid: Sequence[Cell], paper: Mapping[Cell, Mapping[str, float]],
                 ours: Mapping[Cell, Mapping[str, Sequence[tuple[float, float | None]]]],
                 paper_series: Mapping[str, tuple[str, Style]], ours_series: Mapping[str, Style], title: str,
                 path: Path) -> int:
    """One row of panels per n: the settings of ``grid`` along x (K, then distribution), the paper's
    ``paper_series`` (metric -> (legend, style)) hollow and ``ours`` (series -> values with SE)
    filled with error bars, log scale. Returns how many settings have a filled ``ours_series``'s
    first series (the learned mechanism)."""
    ns = sorted({n for n, _, _ in grid})
    width = max(10.0, min(12.5, 2.5 + 0.65 * max(sum(c[0] == n for c in grid) for n in ns)))
    fig = canvas(width, 1.6 + 3.45 * len(ns))
    series = [("paper", m) for m in paper_series] + [("ours", s) for s in ours_series]
    offsets = {s: -0.33 + 0.66 * i / max(1, len(series) - 1) for i, s in enumerate(series)}
    first = next(iter(ours_series))
    covered = 0
    for row, n in enumerate(ns):
        cells = [c for c in grid if c[0] == n]
        ax = fig.add_subplot(len(ns), 1, row + 1)
        for x, cell in enumerate(cells):
            for metric, (legend, (marker, colour)) in paper_series.items():
                if metric in paper.get(cell, {}):
                    ax.plot([x + offsets["paper", metric]], [paper[cell][metric]], marker, mfc="none", mec=colour, ms=7,
                            mew=1.4, label=f"paper: {legend}")
            mine = ours.get(cell, {})
            covered += bool(mine.get(first))
            for name, values in mine.items():
                if name in ours_series and values:
                    mean, se = _pooled(values)
                    marker, colour = ours_series[name]
                    ax.errorbar([x + offsets["ours", name]], [mean], yerr=se, fmt=marker, color=colour, ms=6, capsize=3,
                                label=name)
        ax.set_yscale("log")
        ax.set_xticks(range(len(cells)), [f"K={k}\n{d}" for _, k, d in cells], fontsize=9)
        ax.tick_params(axis="y", labelsize=10)
        ax.set_ylabel("social cost (test, log scale)", fontsize=10)
        ax.set_title(f"n = {n} agents", fontsize=11)
        ax.grid(axis="y", alpha=0.3, which="both")
        for x in range(1, len(cells)):
            if cells[x][1] != cells[x - 1][1]:
                ax.axvline(x - 0.5, color="lightgray", lw=1)
    _legend(fig, ncol=7 if width >= 12 else 5)
    fig.suptitle(title, fontsize=12)
    fig.tight_layout(rect=(0, 0.13 if len(ns) == 1 else 0.06, 1, 0.97))
    save(fig, path)
    return covered


#: Box colours of the baselines (the paper's order).
BOX_COLOURS = {"Per.": "dimgray", "Dict.": "tab:brown", "Cons.": "tab:olive", "MoulinNet": "tab:blue",
               "RegretNet": "tab:orange", "NonSP": "tab:green"}


def boxes_figure(panels: Mapping[str, Mapping[str, Sequence[float]]], title: str, ylabel: str, path: Path,
                 columns: int = 4) -> None:
    """One panel per key of ``panels`` (its title), one box per baseline over its values (one per
    weight set: the baseline's cost minus ours), the points drawn over the boxes; a line at 0."""
    keys = list(panels)
    cols = max(1, min(columns, len(keys)))
    rows = math.ceil(len(keys) / cols)
    fig = canvas(max(7.5, 3.4 * cols), 0.9 + 3.1 * rows)
    for i, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        names = [name for name, vals in panels[key].items() if vals]
        data = [list(panels[key][name]) for name in names]
        if data:
            ax.boxplot(data, widths=0.6, showfliers=False)
            for j, (name, vals) in enumerate(zip(names, data)):
                xs = [j + 1 + 0.18 * ((t % 5) - 2) / 2 for t in range(len(vals))]
                ax.plot(xs, vals, "o", ms=3.5, color=BOX_COLOURS.get(name, "black"), alpha=0.8)
            ax.set_xticks(range(1, len(names) + 1), names, fontsize=8, rotation=30)
        ax.axhline(0.0, color="tab:red", lw=1, ls="--")
        ax.set_title(key, fontsize=10)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
        if i % cols == 0:
            ax.set_ylabel(ylabel, fontsize=9)
    fig.suptitle(title, fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    save(fig, path)


def epsilon_figure(epsilons: Sequence[float], cost_diff: Mapping[str, Sequence[float | None]],
                   regret_diff: Mapping[str, Sequence[float | None]], ours_regret: Mapping[str, Sequence[Sequence[float]]],
                   title: str, path: Path) -> None:
    """Figure S9's two parts. Top, one panel per baseline: its cost (black) and sampled regret
    (blue) minus ours, averaged over the weight sets, against epsilon. Bottom: our regret against
    epsilon, each weight set's value and the mean, by measure (``ours_regret``: measure -> per
    epsilon, the values), with the line regret = epsilon."""
    names = list(cost_diff)
    cols = max(1, min(6, len(names)))
    fig = canvas(max(8.0, 2.3 * cols), 7.6)
    xs = list(range(len(epsilons)))
    labels = [f"{e:g}" for e in epsilons]
    for i, name in enumerate(names):
        ax = fig.add_subplot(2, cols, i + 1)
        for values, colour, legend in ((cost_diff[name], "black", "social cost: baseline - ours"),
                                       (regret_diff.get(name, []), "tab:blue", "regret (sampled): baseline - ours")):
            pts = [(x, v) for x, v in zip(xs, values) if v is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=colour, ms=4, lw=1.3, label=legend)
        ax.axhline(0.0, color="tab:red", lw=1, ls="--")
        ax.set_xlim(-0.5, len(xs) - 0.5)
        ax.set_xticks(xs, labels, fontsize=7, rotation=45)
        ax.set_title(name, fontsize=10)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(alpha=0.3)
        if i == 0:
            ax.set_ylabel("mean over weight sets", fontsize=9)
    ax = fig.add_subplot(2, 1, 2)
    styles = {"sampled misreports (test)": ("o", "tab:blue"), "dense audit (test)": ("s", "tab:purple")}
    for j, (measure, per_eps) in enumerate(ours_regret.items()):
        marker, colour = styles.get(measure, ("^", "black"))
        shift = -0.08 + 0.16 * j
        for x, vals in zip(xs, per_eps):
            ax.plot([x + shift] * len(vals), vals, marker, mfc="none", mec=colour, ms=5, alpha=0.7)
        means = [(x + shift, sum(v) / len(v)) for x, v in zip(xs, per_eps) if v]
        if means:
            ax.plot([m[0] for m in means], [m[1] for m in means], marker + "-", color=colour, ms=7,
                    label=f"ours: {measure} (mean; hollow: each weight set)")
    ax.plot(xs, list(epsilons), "--", color="tab:red", lw=1.2, label="regret = epsilon")
    ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_xticks(xs, labels, fontsize=9)
    ax.set_xlabel("epsilon (regret threshold of the fitness)", fontsize=10)
    ax.set_ylabel("ours: max regret", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="upper left")
    _legend_top = [a for a in fig.axes[:len(names)]]
    handles, seen = [], []
    for a in _legend_top:
        for h, name in zip(*a.get_legend_handles_labels()):
            if name not in seen:
                handles.append(h)
                seen.append(name)
    if handles:
        fig.legend(handles, seen, loc="upper center", bbox_to_anchor=(0.5, 0.95), ncol=2, fontsize=9, frameon=False)
    fig.suptitle(title, fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    save(fig, path)


def regretnet_figure(ks: Sequence[int], ours: Mapping[str, Mapping[int, tuple[float | None, float | None]]],
                     paper: Mapping[str, Mapping[int, tuple[float | None, float | None]]],
                     reference: Mapping[int, float | None], title: str, path: Path) -> None:
    """Two panels against K: RegretNet's social cost and its max regret, ours filled (series ->
    K -> (cost, regret)) and the paper's printed ones hollow; the cost panel also shows our best
    percentile rule (``reference``)."""
    fig = canvas(11.0, 4.6)
    colours = {"1k": "tab:orange", "25k": "tab:red"}
    for j, what in enumerate(("social cost (test)", "max regret (test, sampled misreports)")):
        ax = fig.add_subplot(1, 2, j + 1)
        for name, by_k in ours.items():
            pts = [(k, by_k[k][j]) for k in ks if k in by_k and by_k[k][j] is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=colours.get(name, "black"), ms=7,
                        label=f"ours: RegretNet on {name} profiles")
        for name, by_k in paper.items():
            pts = [(k, by_k[k][j]) for k in ks if k in by_k and by_k[k][j] is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "s--", mfc="none", color=colours.get(name, "gray"),
                        ms=8, label=f"paper: RegretNet on {name} profiles (Table S7)")
        if j == 0:
            pts = [(k, v) for k, v in reference.items() if v is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "D:", color="black", ms=5, label="ours: best percentile rule")
            ax.set_yscale("log")
        ax.set_xticks(list(ks))
        ax.set_xlabel("K (facilities)", fontsize=10)
        ax.set_ylabel(what, fontsize=10)
        ax.grid(alpha=0.3, which="both")
    _legend(fig, ncol=3)
    fig.suptitle(title, fontsize=12)
    fig.tight_layout(rect=(0, 0.13, 1, 0.95))
    save(fig, path)


def _code_lines(code: str, width: int) -> list[str]:
    """The program without its docstring (the task's template, the same for every program),
    long lines wrapped at ``width``."""
    import ast

    body = code
    try:
        tree = ast.parse(code)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and ast.get_docstring(node) is not None:
                doc = node.body[0]
                lines = code.splitlines()
                body = "\n".join(lines[: doc.lineno - 1] + lines[doc.end_lineno:])
                break
    except SyntaxError:
        pass
    out = []
    for line in body.splitlines():
        indent = len(line) - len(line.lstrip())
        out += textwrap.wrap(line, width, subsequent_indent=" " * (indent + 4), drop_whitespace=False) or [""]
    return out


def code_figure(programs: Sequence[tuple[str, str]], path: Path, width: int = 118) -> None:
    """Learned programs as code, one block per (heading, code), in a monospace font."""
    blocks = [(textwrap.wrap(head, 125), _code_lines(code, width)) for head, code in programs]
    line_in = 0.158  # inches per code line at 8.2 pt
    heights = [1.45 * line_in * len(head) + line_in * (len(body) + 1.5) for head, body in blocks]
    total = 0.3 + sum(heights)
    fig = canvas(12.5, total)
    y = 1.0 - 0.15 / total
    for (head, body), h in zip(blocks, heights):
        fig.text(0.01, y, "\n".join(head), fontsize=10, weight="bold", va="top", linespacing=1.3)
        y -= 1.45 * line_in * len(head) / total + 0.4 * line_in / total
        fig.text(0.015, y, "\n".join(body), fontsize=8.2, family="monospace", va="top", linespacing=1.28)
        y -= line_in * (len(body) + 1.1) / total
    save(fig, path)


__all__ = ["cells_figure", "boxes_figure", "epsilon_figure", "regretnet_figure", "code_figure", "BOX_COLOURS"]
