"""The paper's facility-location numbers (transcribed CSV) beside ours, and text tables.

``paper_tables`` is the report hook; ``paper_cells`` looks up one setting;
``text_table`` renders aligned plain-text tables for the notebook.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources
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
    """The run's own setting: baselines and the learned mechanism beside the paper's cell."""
    table, cells = paper_cells(params["n_agents"], params["n_facilities"], params["distribution"], params["weights"])
    if not cells:
        return []
    setting = setting_key(params["n_agents"], params["n_facilities"], params["distribution"], params["weights"])
    rows = []
    for ours_name, metric in COLUMNS.items():
        base = (results.get("baselines") or {}).get(ours_name)
        if base and metric in cells:
            rows.append({"table": table, "setting": setting, "metric": f"{metric} social cost", "paper": cells[metric],
                         "ours": base.get("social_cost")})
    best = results.get("best") or {}
    paper_col = LEARNED.get(params.get("method", ""), "llmmech_e")
    if best and paper_col in cells:
        rows += _outcome_rows(params["n_agents"], params["n_facilities"], params["distribution"], str(params["weights"]), paper_col,
                              f"learned ({params.get('method')})", best.get("test_social_cost"), best.get("max_regret"),
                              best.get("vs_percentile"))
    return rows


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
