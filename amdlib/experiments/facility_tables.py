"""The paper's facility-location numbers (transcribed CSV) beside ours, and text tables.

``paper_tables`` is the report hook; ``paper_cells`` looks up one setting;
``text_table`` renders aligned plain-text tables for the notebook.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

#: Our baseline names -> the paper's column metric names.
COLUMNS = {"percentile": "per", "dictatorial": "dict", "constant": "cons", "moulinnet": "moulinnet",
           "regretnet": "regretnet", "nonsp": "nonsp"}
LEARNED = {"eoh": "llmmech", "eoh-e": "llmmech_e"}


@lru_cache(maxsize=1)
def paper_rows() -> tuple[dict[str, str], ...]:
    """All rows of amdlib/data/paper/facility_location.csv."""
    text = resources.files("amdlib.data").joinpath("paper/facility_location.csv").read_text()
    return tuple(csv.DictReader(text.splitlines()))


def setting_key(n: int, k: int, distribution: str, weights: str) -> str:
    """The CSV's setting label, e.g. ``n=5 K=2 uniform weights=fixed``."""
    return f"n={n} K={k} {distribution} weights={weights}"


def paper_cells(n: int, k: int, distribution: str, weights: str) -> tuple[str, dict[str, float]]:
    """(table id, metric -> value) for a setting; Table 1 for fixed weights, S6/S8 unweighted."""
    key = setting_key(n, k, distribution, str(weights))
    cells: dict[str, float] = {}
    table = ""
    for row in paper_rows():
        if row["setting"] == key and row["table"] in ("Table 1", "Table S6", "Table S8"):
            table = row["table"]
            cells[row["metric"]] = float(row["value"])
    return table, cells


def paper_tables(results: dict[str, Any], params: dict[str, Any]) -> list[dict[str, Any]]:
    """Report hook: rows {table, setting, metric, paper, ours} for the run's setting, then, when the
    run had ``table1_grid``, one group per Table-1 setting of its in-notebook grid."""
    rows = _setting_rows(results, params)
    paper_col = LEARNED.get(params.get("method", ""), "llmmech_e")
    for r in (results.get("table1") or {}).get("rows", []):
        rows += _outcome_rows(r["n"], r["K"], r["distribution"], "fixed", paper_col, f"grid: learned ({params.get('method')})",
                              r["learned"], r["learned_max_regret"], r["outcome"])
    return rows


def _outcome_rows(n: int, k: int, distribution: str, weights: str, paper_col: str, label: str, cost: Any, regret: Any,
                  outcome: Any) -> list[dict[str, Any]]:
    """Learned cost and regret beside the paper's learned column, and the outcome against our best
    percentile rule (ours only: ``comparable`` False, so the report shows no difference)."""
    table, cells = paper_cells(n, k, distribution, weights)
    setting = setting_key(n, k, distribution, weights)
    return [
        {"table": table, "setting": setting, "metric": f"{label} vs {paper_col} social cost", "paper": cells.get(paper_col), "ours": cost},
        {"table": table, "setting": setting, "metric": f"{label} vs {paper_col} max regret", "paper": cells.get(paper_col + "_regret", 0.0),
         "ours": regret},
        {"table": table, "setting": setting, "metric": f"{label} vs best percentile rule (ours, test)", "paper": None,
         "ours": outcome, "comparable": False},
    ]


def _setting_rows(results: dict[str, Any], params: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's own setting: baselines and the learned mechanism beside the paper's cell, the
    ratio to the best handcrafted rule beside LLMMech's and LLMMech-e's, and the paired verdicts."""
    table, cells = paper_cells(params["n_agents"], params["n_facilities"], params["distribution"], params["weights"])
    if not cells:
        return []
    setting = setting_key(params["n_agents"], params["n_facilities"], params["distribution"], params["weights"])
    row = lambda metric, paper, ours, **kw: {"table": table, "setting": setting, "metric": metric, "paper": paper, "ours": ours, **kw}
    rows = []
    base = results.get("baselines") or {}
    for ours_name, metric in COLUMNS.items():
        if base.get(ours_name) and metric in cells:
            rows.append(row(f"{metric} social cost", cells[metric], base[ours_name].get("social_cost")))
            if base[ours_name].get("budget_note"):
                rows.append(row(f"{metric} training budget (paper: 1000 epochs x 10 restarts)", None,
                                base[ours_name]["budget_note"], comparable=False))
    best = results.get("best") or {}
    if not best:
        return rows
    cost, se = best.get("test_social_cost"), best.get("test_social_cost_se")
    rows.append(row("learned social cost (test) vs LLMMech", cells.get("llmmech"), cost))
    rows.append(row("learned social cost (test) vs LLMMech-e", cells.get("llmmech_e"), cost))
    rows.append(row("learned max regret vs LLMMech", cells.get("llmmech_regret", 0.0) if "llmmech" in cells else None, best.get("max_regret")))
    rows.append(row("learned max regret vs LLMMech-e", cells.get("llmmech_e_regret", 0.0) if "llmmech_e" in cells else None,
                    best.get("max_regret")))
    rows.append(row("learned standard error (test)", None, se, comparable=False))
    rows.append(row("learned dense-audit max regret", None, best.get("dense_audit_max_regret"), comparable=False))
    ours_hb = _handcrafted(base.get("percentile", {}).get("social_cost"), base.get("dictatorial", {}).get("social_cost"))
    paper_hb = _handcrafted(cells.get("per"), cells.get("dict"))
    for col, label in (("llmmech", "LLMMech"), ("llmmech_e", "LLMMech-e")):
        if ours_hb and paper_hb and cost is not None and col in cells:
            rows.append(row(f"ratio to best handcrafted (learned vs {label})", cells[col] / paper_hb, cost / ours_hb))
    for name, v in ((results.get("verdicts") or {}).get("vs") or {}).items():
        rows.append(row(f"paired verdict vs {name} ({results['verdicts']['profiles']} fresh profiles)", None,
                        f"{v['verdict']} ({v['mean_difference']:+.6f} +- {v['paired_se']:.6f})", comparable=False))
    return rows


def _handcrafted(per: Any, dictatorial: Any) -> float | None:
    vals = [v for v in (per, dictatorial) if isinstance(v, (int, float))]
    return min(vals) if vals else None


def _fmt(v: Any, digits: int) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def text_table(header: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 5) -> str:
    """An aligned plain-text table (floats rounded to ``digits``)."""
    cells = [[str(h) for h in header]] + [[_fmt(v, digits) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def comparison_rows(ours: dict[str, float], n: int, k: int, distribution: str, weights: str) -> list[list[Any]]:
    """[method, ours, paper, ours - paper, relative %] for the baselines of one setting."""
    _, cells = paper_cells(n, k, distribution, weights)
    rows = []
    for name, metric in COLUMNS.items():
        if name not in ours:
            continue
        paper = cells.get(metric)
        diff = None if paper is None or ours[name] is None else ours[name] - paper
        rel = None if diff is None else 100.0 * diff / paper
        rows.append([name, ours[name], paper, diff, None if rel is None else f"{rel:+.1f}"])
    return rows


# ------------------------------------------------------------------ the 32-cell Table-1 view
#: Relative tolerance of the acceptance checks ("within 0.5%").
TOL = 0.005


def table1_cell(params: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    """One Table-1 cell from a run: ours (test cost, SE, regrets), our baselines, the paper's
    LLMMech / LLMMech-e (with regrets) and MoulinNet, the ratios to the best handcrafted rule,
    the paired verdicts, and the acceptance flags."""
    n, k, dist = int(params["n_agents"]), int(params["n_facilities"]), str(params["distribution"])
    _, cells = paper_cells(n, k, dist, "fixed")
    base, best = results.get("baselines") or {}, results.get("best") or {}
    cost = lambda name: (base.get(name) or {}).get("social_cost")
    ours = best.get("test_social_cost")
    hb, phb = _handcrafted(cost("percentile"), cost("dictatorial")), _handcrafted(cells.get("per"), cells.get("dict"))
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
    row["k1_optimal"] = bool(k == 1 and ours is not None and row["nonsp"] and ours <= row["nonsp"] * (1 + TOL)) if k == 1 else None
    row["within_sp_baselines"] = bool(ours is not None and sp_refs and ours <= min(sp_refs) * (1 + TOL) and sp)
    for col in ("llmmech", "llmmech_e"):
        paper_ratio = row[f"paper_ratio_{col}"]
        row[f"beats_{col}"] = bool(ratio is not None and paper_ratio is not None and ratio <= paper_ratio and sp)
        row[f"beats_{col}_tol"] = bool(ratio is not None and paper_ratio is not None and ratio <= paper_ratio * (1 + TOL) and sp)
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


def load_table1_runs(root: str | Path) -> list[dict[str, Any]]:
    """Table-1 cells of every facility_location run under ``root`` (an outputs folder): fixed
    weights, epsilon 0; the newest run of a setting wins."""
    import json

    import yaml

    found: dict[tuple, tuple[float, dict[str, Any]]] = {}
    for res in Path(root).glob("facility_location/*/results.json"):
        params = yaml.safe_load((res.parent / "params.yaml").read_text(encoding="utf-8")) or {}
        if str(params.get("weights")) != "fixed" or float(params.get("epsilon", 0.0)) != 0.0:
            continue
        key = (int(params["n_agents"]), int(params["n_facilities"]), str(params["distribution"]))
        if key not in found or res.stat().st_mtime > found[key][0]:
            found[key] = (res.stat().st_mtime, table1_cell(params, json.loads(res.read_text(encoding="utf-8"))))
    order = {d: i for i, d in enumerate(("uniform", "normal", "beta1", "beta2"))}
    return [found[k][1] for k in sorted(found, key=lambda k: (k[0], k[1], order.get(k[2], 9)))]


def table1_text(rows: Sequence[dict[str, Any]]) -> str:
    """The 32-cell view as plain text."""
    v = lambda r, name: r["verdicts"].get(name, "-")
    return text_table(
        ["n", "K", "dist", "ours", "SE", "reg", "per", "dict", "moulin", "nonsp", "ratio", "LLMMech (reg)", "r_LLM",
         "LLMMech-e (reg)", "r_LLMe", "vs per/dict/moulin"],
        [[r["n"], r["K"], r["distribution"], r["ours"], r["ours_se"], r["dense_regret"], r["per"], r["dict"], r["moulinnet"],
          r["nonsp"], r["ratio"], f"{r['paper_llmmech']} ({r['paper_llmmech_regret']:g})", r["paper_ratio_llmmech"],
          f"{r['paper_llmmech_e']} ({r['paper_llmmech_e_regret']:g})", r["paper_ratio_llmmech_e"],
          "/".join(v(r, name) for name in ("percentile", "dictatorial", "moulinnet"))] for r in rows], digits=5)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m amdlib.experiments.facility_tables OUTPUTS``: the Table-1 view and acceptance counts."""
    import json
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    rows = load_table1_runs(args[0] if args else "outputs")
    print(table1_text(rows))
    print(json.dumps(table1_acceptance(rows), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
