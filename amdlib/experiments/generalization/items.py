"""LLMMech's Tables 3, 4 and S10-S15 from the runs, in the paper's own layout (the ``paper_items`` hook).

Per item: a headline (ours against the paper's learned column, both relative to the percentile
rule), ``cells`` (the settings the runs fill, of the table's), and when drawing, a figure by setting
(:mod:`.item_figures`) and one table per panel of the paper's: its columns in its order with ours
after each. Columns named ``(paper)`` hold only numbers the paper printed, ``(derived from paper)``
ratios of them, ``(ours)`` what the runs computed (:mod:`.item_data` reads both).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from amdlib.core.experiment import ItemView, PaperFigure, PaperTable, RunView
from amdlib.experiments.generalization.item_data import (DISTS, SPECS, Cell, Ours, Panel, Spec, collect, item_settings,
                                                        ours_text, paper_column, paper_values, panel_metrics,
                                                        who_short)


# ------------------------------------------------------------------ tables
def _r(value: float | None, digits: int = 5) -> float | None:
    return None if value is None else round(value, digits)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _ours_columns(panel: Panel, spec: Spec) -> dict[str, tuple[str, str]]:
    """Our column after each paper column: paper metric -> (our header, our key)."""
    if panel.baselines == "larger":
        return {"Per.": ("Per. refitted at this n (ours)", "per"), "NonSP": ("NonSP (ours)", "nonsp")}
    tag, key = (" (OOD)", "_ood") if panel.baselines == "ood" else ("", "")
    where = "fitted on uniform" if panel.baselines == "ood" else "fitted in distribution"
    return {f"Per.{tag}": (f"Per. {where} (ours)", f"per{key}"), f"Dict.{tag}": (f"Dict. {where} (ours)", f"dict{key}"),
            "NonSP": ("NonSP (ours)", "nonsp")}


def _learned_header(spec: Spec) -> str:
    return ("learned at n = 5, run at this n (ours)" if spec.study == "larger_n"
            else "learned on uniform, scored OOD (ours)")


def panel_table(spec: Spec, panel: Panel, ours: Ours, caption: str) -> PaperTable:
    """One panel of the item in the paper's layout: its columns with ours after each, then ratios to
    the percentile rule (the paper's derived, ours computed) and the number of trials."""
    paper = paper_values()
    metrics = panel_metrics(panel)
    mine = _ours_columns(panel, spec)
    learned_cols = [m for m in metrics if m.startswith("LLMMech")]
    per = metrics[0]
    cols: list[str] = ["n", "K", "distribution"]
    for m in metrics:
        cols.append(f"{m} (paper)")
        if m in mine:
            cols.append(mine[m][0])
        if m == learned_cols[-1]:
            cols += [_learned_header(spec), "its regret, sampled misreports (ours)"]
            if spec.study == "larger_n":
                cols.append("its regret, dense audit (ours)")
    cols += [f"{m} / {per} (derived from paper)" for m in learned_cols]
    cols += [f"learned / {mine[per][0].removesuffix(' (ours)')} (ours)", "trials (ours)"]
    rows = []
    for s in item_settings(spec):
        cell = ours.cells.get(s)

        def get(key: str, cell: Cell | None = cell) -> float | None:
            return _r(cell.mean(key)) if cell is not None else None

        learned = get("learned")
        if cell is not None and learned is None and cell.reasons:
            learned_cell: Any = "not applicable: " + cell.reasons[0][:100]
        else:
            learned_cell = learned
        row: list[Any] = [s.n, s.k, s.distribution]
        for m in metrics:
            row.append(paper.get((panel.table, s.key, m)))
            if m in mine:
                row.append(get(mine[m][1]))
            if m == learned_cols[-1]:
                row += [learned_cell, get("regret")]
                if spec.study == "larger_n":
                    row.append(get("audit"))
        row += [_r(_ratio(paper.get((panel.table, s.key, m)), paper.get((panel.table, s.key, per))), 4) for m in learned_cols]
        row += [_r(_ratio(cell.mean("learned"), cell.mean(mine[per][1])), 4) if cell else None,
                cell.trials if cell else None]
        rows.append(tuple(row))
    return PaperTable(tuple(cols), tuple(rows), caption)


# ------------------------------------------------------------------ headline and captions
def _geomean(values: Sequence[float]) -> float | None:
    vals = [v for v in values if v > 0]
    return math.exp(sum(map(math.log, vals)) / len(vals)) if vals else None


def headline(spec: Spec, ours: Ours) -> str:
    """One line: ours / our percentile rule (fitted in distribution, or refitted at the larger n)
    against the paper's learned column / its Per. (geometric means over the settings ours fills),
    ours / the paper's learned cost, and who "ours" is."""
    paper = paper_values()
    table = spec.panels[0].table
    column = paper_column(spec, ours.params)
    ours_r, paper_r, direct = [], [], []
    for s, cell in ours.cells.items():
        mine, per = cell.mean("learned"), cell.mean("per")
        theirs, their_per = paper.get((table, s.key, column)), paper.get((table, s.key, "Per."))
        if mine is None:
            continue
        if per:
            ours_r.append(mine / per)
        if theirs is not None and their_per:
            paper_r.append(theirs / their_per)
        if theirs:
            direct.append(mine / theirs)
    name = column.split(" (")[0]
    if not ours_r:
        return f"no learned mechanism applicable in the {len(ours.cells)} settings run ({who_short(ours.params)})"
    a, b, c = _geomean(ours_r), _geomean(paper_r), _geomean(direct)
    return f"ours/Per {a:.3f}, {name}/Per {b:.3f} (paper); ours/{name} {c:.3f} ({who_short(ours.params)})"


#: What the three kinds of columns hold (every table and figure caption says it).
PRINTED = ("Columns marked (paper) hold only numbers LLMMech printed (transcribed in "
           "amdlib/data/paper/generalization.csv; the regrets it prints in parentheses are not repeated); "
           "(derived from paper) columns are ratios of those printed numbers, which the paper did not print; "
           "every (ours) number was computed by the runs.")


def _what_ours(spec: Spec, ours: Ours) -> str:
    ids = ", ".join(r.run_id for r in ours.runs)
    seeds = sorted({int(r.params.get("seed", 0)) for r in ours.runs})
    other = (f" {ours.others} other run(s) of another kind (proposer, budget or sample sizes) also cover this "
             "item and are not shown." if ours.others else "")
    test = ours.params.get("n_test")
    if spec.study == "ood":
        fitted = ("fitted on that distribution's training profiles (first panel) or on uniform ones (second panel)"
                  if len(spec.panels) > 1 else "fitted on that distribution's training profiles")
        how = (f"Ours: {ours_text(ours.params)}; each learned mechanism is run unchanged in the sandbox on "
               f"{test} test profiles of the test distribution, beside the percentile and dictatorial rules "
               f"{fitted}, and the exact non-strategy-proof optimum (NonSP).")
    else:
        dists = [d for d in DISTS if any(s.distribution == d for s in ours.cells)]
        on = "each row's peaks" if len(dists) > 1 else f"{dists[0]} peaks" if dists else None
        missing = [d for d in DISTS if d not in dists]
        how = (f"Ours: {ours_text(ours.params, learned_on=on)}, at n = {spec.learned_at_n} agents, run unchanged in "
               f"the sandbox at the larger n on {test} test profiles of the peaks it was learned on, beside the "
               "percentile rule refitted at that n (exact DP) and the exact non-strategy-proof optimum; regret is "
               "also measured by a dense audit (every grid point as a misreport)."
               + (f" No run here learned on {', '.join(missing)} peaks (a run's learn_distribution), so those rows "
                  "show the paper's numbers only." if missing and not ours.params.get("source_runs") else ""))
    return (f"{how} MoulinNet and RegretNet are not trained in this experiment (Experiment 4 trains them per "
            f"setting{'; at a larger n they would need retraining' if spec.study == 'larger_n' else ''}). "
            f"Runs: {ids} (seeds {', '.join(map(str, seeds))}; {len(ours.cells)} of "
            f"{len(item_settings(spec))} settings filled, each mean over its trials; blank: not run; rerun "
            f"the full grid with `amd paper run --full {spec.item}`).{other}")


def _panel_name(panel: Panel) -> str:
    return {"in": "baselines fitted in distribution", "ood": "baselines fitted on uniform peaks (OOD)",
            "larger": "baselines refitted at this n"}[panel.baselines]


def view(spec: Spec, ours: Ours, folder: Path | None) -> ItemView:
    """The item's view: headline and cells; with ``folder``, its figure and tables too."""
    ids = tuple(r.run_id for r in ours.runs)
    cells = (len(ours.cells), len(item_settings(spec)))
    line = headline(spec, ours)
    if folder is None:
        return ItemView(spec.item, line, runs=ids, cells=cells)
    from amdlib.experiments.generalization.item_figures import draw

    path = folder / f"generalization-{spec.slug}.png"
    draw(spec, ours, path)
    caption = (f"{spec.label} by setting: social cost on the test profiles (log scale) against K, one panel per n "
               f"and test distribution, every setting of the table; the paper's printed numbers (hollow markers, "
               f"dashed) beside ours (filled, solid). {_what_ours(spec, ours)} {PRINTED}")
    learned = (f"learned at n = {spec.learned_at_n} on the row's peaks" if spec.study == "larger_n"
               else "learned on uniform peaks")
    brief = (f"Ours: {ours_text(ours.params, detail=False)}, {learned} (details under the figure); runs "
             f"{', '.join(ids)}; blank: not run.")
    tables = tuple(panel_table(spec, p, ours, f"{spec.label}, {_panel_name(p)}; every setting, in the paper's order "
                                              f"(n, distribution, K). {brief} {PRINTED}")
                   for p in spec.panels)
    figure = PaperFigure(path, caption, item=spec.item, anchor=f"paper-{spec.slug}",
                         tables=tuple(dict.fromkeys(p.table for p in spec.panels)))
    return ItemView(spec.item, line, (figure,), tables, ids, cells)


def paper_items(runs: Sequence[RunView], folder: Path | None) -> list[ItemView]:
    """The ``paper_items`` hook: one view per item of Tables 3, 4, S10-S15 that the complete runs fill
    at least one setting of (headlines and cells only when ``folder`` is None)."""
    out = []
    for spec in SPECS:
        ours = collect(spec, runs)
        if ours is not None:
            out.append(view(spec, ours, folder))
    return out


def paper_figures(runs: Sequence[RunView], folder: Path) -> list[PaperFigure]:
    """The ``paper_figures`` hook: the items' figures, which stand in for the report's generic
    comparison figures of the same tables."""
    return [f for v in paper_items(runs, folder) for f in v.figures]


__all__ = ["PRINTED", "panel_table", "headline", "view", "paper_items", "paper_figures"]
