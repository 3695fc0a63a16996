"""Paper Table 1 (fixed weights, n = 5 and 10, K = 1..4, four distributions: 32 cells): the grid,
the 32-cell view of a set of runs with its acceptance counts, and the report's figure.

:data:`TABLE1_GRID` (defined in :mod:`.grid`) is the one definition of the grid: the in-notebook ``table1_grid`` study, the
figure and the tests use it (``params/facility_location/sweep_table1.yaml`` sweeps the same cells).
``python -m amdlib.experiments.facility_location.table1 OUTPUTS`` prints the view of the runs under
an outputs folder.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from amdlib.core import paperdata
from amdlib.core.experiment import PaperFigure, RunView
from amdlib.experiments.facility_location.paper import handcrafted, paper_cells, setting_key, text_table
from amdlib.experiments.facility_location.grid import PAPER_EPSILON, TABLE1_DISTRIBUTIONS, TABLE1_GRID

#: The paper item the figure shows, its anchor on the report page, and the paper_rows table it draws.
ITEM, ANCHOR, TABLE = "llmmech/table-1", "paper-facility_location-table-1", "Table 1"
#: Relative tolerance of the acceptance checks ("within 0.5%").
TOL = 0.005


def _part(data: Any, key: str) -> Mapping[str, Any]:
    """``data[key]`` when both are mappings, else an empty mapping (results of any age or shape)."""
    value = data.get(key) if isinstance(data, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _number(value: Any) -> float | None:
    """``value`` as a float when it is a real number (bools are not), else None."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# ------------------------------------------------------------------ the 32-cell view
def table1_cell(params: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, Any]:
    """One Table-1 cell from a run: ours (test cost, SE, regrets), our baselines, the paper's
    LLMMech / LLMMech-e (with regrets) and MoulinNet, the ratios to the best handcrafted rule,
    the paired verdicts, and the acceptance flags."""
    n, k, dist = int(params["n_agents"]), int(params["n_facilities"]), str(params["distribution"])
    _, cells = paper_cells(n, k, dist, "fixed")
    base, best = results.get("baselines") or {}, results.get("best") or {}

    def cost(name: str) -> Any:
        return (base.get(name) or {}).get("social_cost")

    ours = best.get("test_social_cost")
    hb, phb = handcrafted(cost("percentile"), cost("dictatorial")), handcrafted(cells.get("per"), cells.get("dict"))
    sp_refs = [v for v in (cost("percentile"), cost("dictatorial"), cost("moulinnet")) if v is not None]
    ratio = ours / hb if ours is not None and hb else None
    vs = ((results.get("verdicts") or {}).get("vs")) or {}
    row = {"n": n, "K": k, "distribution": dist, "ours": ours, "ours_se": best.get("test_social_cost_se"),
           "ours_regret": best.get("max_regret"), "dense_regret": best.get("dense_audit_max_regret"),
           "per": cost("percentile"), "dict": cost("dictatorial"), "moulinnet": cost("moulinnet"), "nonsp": cost("nonsp"),
           "moulinnet_budget": (base.get("moulinnet") or {}).get("budget_note"),
           "paper_llmmech": cells.get("llmmech"), "paper_llmmech_regret": cells.get("llmmech_regret", 0.0),
           "paper_llmmech_e": cells.get("llmmech_e"), "paper_llmmech_e_regret": cells.get("llmmech_e_regret", 0.0),
           "paper_moulinnet": cells.get("moulinnet"), "ratio": ratio,
           "paper_ratio_llmmech": cells["llmmech"] / phb if phb and "llmmech" in cells else None,
           "paper_ratio_llmmech_e": cells["llmmech_e"] / phb if phb and "llmmech_e" in cells else None,
           "verdicts": {name: v["verdict"] for name, v in vs.items()},
           "verdict_detail": {name: [v["mean_difference"], v["paired_se"]] for name, v in vs.items()}}
    sp = row["dense_regret"] == 0.0 and row["ours_regret"] == 0.0
    # Matched regret: a run at a column's printed regret is held to that regret (dense audit), not to 0.
    allowed = {col: sp for col in ("llmmech", "llmmech_e")}
    source = str(params.get("epsilon_source", "value"))
    if source in PAPER_EPSILON:
        dense = row["dense_regret"]
        col = PAPER_EPSILON[source].removesuffix("_regret")
        allowed = {c: False for c in allowed}
        allowed[col] = dense is not None and dense <= row[f"paper_{col}_regret"] + 1e-12
    row["epsilon_source"] = source
    row["k1_optimal"] = bool(k == 1 and ours is not None and row["nonsp"] and ours <= row["nonsp"] * (1 + TOL)) if k == 1 else None
    row["within_sp_baselines"] = bool(ours is not None and sp_refs and ours <= min(sp_refs) * (1 + TOL) and sp)
    for col in ("llmmech", "llmmech_e"):
        paper_ratio = row[f"paper_ratio_{col}"]
        row[f"beats_{col}"] = bool(ratio is not None and paper_ratio is not None and ratio <= paper_ratio and allowed[col])
        row[f"beats_{col}_tol"] = bool(ratio is not None and paper_ratio is not None and ratio <= paper_ratio * (1 + TOL)
                                       and allowed[col])
    return row


def table1_acceptance(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts of the issue's acceptance checks over the cells (strict, and within TOL for the ratios)."""
    k1 = [r for r in rows if r["K"] == 1]
    return {"cells": len(rows), "k1_optimal": sum(bool(r["k1_optimal"]) for r in k1), "k1_cells": len(k1),
            "within_sp_baselines": sum(r["within_sp_baselines"] for r in rows),
            "ratio_le_llmmech": sum(r["beats_llmmech"] for r in rows),
            "ratio_le_llmmech_e": sum(r["beats_llmmech_e"] for r in rows),
            "ratio_le_llmmech_within_tol": sum(r["beats_llmmech_tol"] for r in rows),
            "ratio_le_llmmech_e_within_tol": sum(r["beats_llmmech_e_tol"] for r in rows),
            "verdicts": {name: {v: sum(r["verdicts"].get(name) == v for r in rows) for v in ("better", "tie", "worse")}
                         for name in ("percentile", "dictatorial", "moulinnet")}}


def load_table1_runs(root: str | Path, epsilon_source: str = "value") -> list[dict[str, Any]]:
    """Table-1 cells of every facility_location run under ``root`` (an outputs folder): fixed
    weights and epsilon 0 (with ``epsilon_source`` "value", strict), or the runs of another epsilon
    source (``paper-llmmech``: matched regret); the newest run of a setting wins."""
    import yaml

    found: dict[tuple, tuple[float, dict[str, Any]]] = {}
    for res in Path(root).glob("facility_location/*/results.json"):
        params = yaml.safe_load((res.parent / "params.yaml").read_text(encoding="utf-8")) or {}
        if str(params.get("weights")) != "fixed" or float(params.get("epsilon", 0.0)) != 0.0:
            continue
        if str(params.get("epsilon_source", "value")) != epsilon_source:
            continue
        key = (int(params["n_agents"]), int(params["n_facilities"]), str(params["distribution"]))
        if key not in found or res.stat().st_mtime > found[key][0]:
            found[key] = (res.stat().st_mtime, table1_cell(params, json.loads(res.read_text(encoding="utf-8"))))
    order = {d: i for i, d in enumerate(TABLE1_DISTRIBUTIONS)}
    return [found[k][1] for k in sorted(found, key=lambda k: (k[0], k[1], order.get(k[2], len(order))))]


def table1_text(rows: Sequence[dict[str, Any]]) -> str:
    """The 32-cell view as plain text."""
    def v(r: dict[str, Any], name: str) -> str:
        return r["verdicts"].get(name, "-")

    return text_table(
        ["n", "K", "dist", "ours", "SE", "reg", "per", "dict", "moulin", "nonsp", "ratio", "LLMMech (reg)", "r_LLM",
         "LLMMech-e (reg)", "r_LLMe", "vs per/dict/moulin"],
        [[r["n"], r["K"], r["distribution"], r["ours"], r["ours_se"], r["dense_regret"], r["per"], r["dict"], r["moulinnet"],
          r["nonsp"], r["ratio"], f"{r['paper_llmmech']} ({r['paper_llmmech_regret']:g})", r["paper_ratio_llmmech"],
          f"{r['paper_llmmech_e']} ({r['paper_llmmech_e_regret']:g})", r["paper_ratio_llmmech_e"],
          "/".join(v(r, name) for name in ("percentile", "dictatorial", "moulinnet"))] for r in rows], digits=5)


# ------------------------------------------------------------------ the report's figure
#: The paper's columns drawn, hollow: CSV metric -> legend name.
PAPER_SERIES = {"per": "Per.", "moulinnet": "MoulinNet", "llmmech": "LLMMech", "llmmech_e": "LLMMech-e"}
_PAPER_STYLE = {"per": ("o", "dimgray"), "moulinnet": ("s", "tab:blue"), "llmmech": ("^", "tab:green"),
                "llmmech_e": ("v", "tab:purple")}
#: Our series, filled: name -> (marker, colour).
_OURS_STYLE = {"ours: learned": ("D", "tab:red"), "ours: Per.": ("o", "black"), "ours: MoulinNet": ("s", "navy")}

Cell = tuple[int, int, str]


def paper_table1() -> dict[Cell, dict[str, float]]:
    """The paper's Table-1 numbers by (n, K, distribution)."""
    index = {setting_key(n, k, d, "fixed"): (n, k, d) for n, k, d in TABLE1_GRID}
    cells: dict[Cell, dict[str, float]] = defaultdict(dict)
    for row in paperdata.rows("facility_location", table=TABLE):
        cell = index.get(row.setting)
        if cell:
            cells[cell][row.metric] = row.value
    return dict(cells)


def our_table1(runs: Iterable[RunView]) -> dict[Cell, dict[str, list[tuple[float, float | None]]]]:
    """Our Table-1 numbers by cell and series, as (value, SE or None), from each complete run's
    own setting (fixed weights only) and the Table-1 grid it ran in-notebook, if any."""
    ours: dict[Cell, dict[str, list[tuple[float, float | None]]]] = defaultdict(lambda: defaultdict(list))

    def add(cell: Cell, series: str, value: Any, se: Any = None) -> None:
        if _number(value) is not None and math.isfinite(value):
            ours[cell][series].append((float(value), _number(se)))

    for run in runs:
        res, params = run.results, run.params
        if _number(params.get("epsilon", 0.0)) not in (None, 0.0) or str(params.get("epsilon_source", "value")) != "value":
            continue  # this figure is Table 1 at exact strategy-proofness (epsilon 0 as given, not measured or matched)
        if str(params.get("weights")) == "fixed":
            cell = (params.get("n_agents"), params.get("n_facilities"), params.get("distribution"))
            best, base = _part(res, "best"), _part(res, "baselines")
            add(cell, "ours: learned", best.get("test_social_cost"), best.get("test_social_cost_se"))
            for series, name in (("ours: Per.", "percentile"), ("ours: MoulinNet", "moulinnet")):
                add(cell, series, _part(base, name).get("social_cost"), _part(base, name).get("social_cost_se"))
        for row in _part(res, "table1").get("rows") or []:  # the in-notebook Table-1 grid (fixed weights, epsilon 0)
            if isinstance(row, Mapping):
                cell = (row.get("n"), row.get("K"), row.get("distribution"))
                add(cell, "ours: learned", row.get("learned"), row.get("learned_se"))
                add(cell, "ours: Per.", row.get("percentile"), row.get("percentile_se"))
    return {k: dict(v) for k, v in ours.items()}


def table1_figure(runs: Sequence[RunView], path: Path) -> PaperFigure | None:
    """Table 1's 32 cells: the paper's Per., MoulinNet, LLMMech and LLMMech-e (hollow) beside
    ours (filled; error bars: SE over runs or the run's own SE), drawn to ``path``. None without
    paper numbers."""
    from amdlib.experiments.facility_location.figures import cells_figure
    from amdlib.experiments.facility_location.ours import neural_budgets, read_all, who_is_ours

    paper = paper_table1()
    if not paper:
        return None
    series = {m: (legend, _PAPER_STYLE[m]) for m, legend in PAPER_SERIES.items()}
    covered = cells_figure(TABLE1_GRID, paper, our_table1(runs), series, _OURS_STYLE,
                           "Facility location, Table 1: social cost, the paper's mechanisms beside ours (fixed weights)", path)
    runs_used = sum(1 for r in runs if r.results)
    outcomes = [o for o in read_all(runs) if o.weights == "fixed"]
    caption = (f"Facility location, paper Table 1 ({len(TABLE1_GRID)} cells: n = 5 and 10, K = 1 to 4, four "
               f"distributions, fixed weights). Hollow: the paper's Per., MoulinNet, LLMMech and LLMMech-e as published; "
               f"filled: ours from {runs_used} run(s) here, learned mechanism in {covered} of {len(TABLE1_GRID)} cells "
               f"(error bars: SE over runs, or the run's own SE, where one exists). Cells without filled markers were "
               f"not run here. {who_is_ours(outcomes) or who_is_ours(read_all(runs))} {neural_budgets(outcomes)}")
    return PaperFigure(path, caption.strip(), item=ITEM, anchor=ANCHOR, tables=(TABLE,))


def paper_figures(runs: Sequence[RunView], folder: Path) -> list[PaperFigure]:
    """The ``paper_figures`` hook: Table 1 over its 32 cells (``facility_location-table-1.png``)."""
    fig = table1_figure(runs, folder / "facility_location-table-1.png")
    return [fig] if fig else []


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m amdlib.experiments.facility_location.table1 OUTPUTS``: the view and acceptance counts."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    root = args[0] if args else "outputs"
    rows = load_table1_runs(root)
    print(table1_text(rows))
    print(json.dumps(table1_acceptance(rows), indent=1))
    for source in PAPER_EPSILON:  # the matched-regret runs, if any (sweep_table1_matched.yaml)
        matched = load_table1_runs(root, source)
        if matched:
            col = PAPER_EPSILON[source].removesuffix("_regret")
            print(f"\nmatched regret, epsilon_source {source} (each cell at the regret the paper prints for it):")
            print(table1_text(matched))
            print(json.dumps({"cells": len(matched), f"ratio_le_{col}": sum(r[f"beats_{col}"] for r in matched),
                              f"ratio_le_{col}_within_tol": sum(r[f"beats_{col}_tol"] for r in matched)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
