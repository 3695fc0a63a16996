"""The paper's Tables 3, 4 and S10-S15 beside ours: the report's ``paper_rows`` hook.

The paper's values come from ``amdlib/data/paper/generalization.csv`` (the table, the setting
``n=<n> <weighting> <distribution> K=<k>``, the column name and the value) through the package's
one reader (:mod:`amdlib.core.paperdata`); ours come only from a run's results.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from amdlib.core import paperdata

PAPER_DATA = "generalization"
#: (weighting, n) -> (in-distribution table, OOD-baselines table) of the OOD study.
OOD_TABLES = {("fixed weights", 5): ("3", "S10"), ("fixed weights", 10): ("3", "S11"),
              ("unweighted", 5): ("S12", "S12"), ("unweighted", 10): ("S13", "S13"), ("unweighted", 25): ("S14", "S14")}
LARGER_N_TABLES = {10: "4", 25: "S15"}
NOT_HERE = "not trained here"
NOT_APPLICABLE = "not applicable (fixed input size)"


@lru_cache(maxsize=1)
def paper_values() -> dict[tuple[str, str, str], float]:
    """(table, setting, column) -> the paper's value."""
    return paperdata.values(PAPER_DATA)


def _weighting(weights: str) -> str | None:
    return {"none": "unweighted", "fixed": "fixed weights"}.get(str(weights).lower())


def _rows(table: str, setting: str, pairs: list[tuple[str, str, Any]]) -> list[dict[str, Any]]:
    """One row per (our label, paper column, our value) whose paper value exists."""
    paper = paper_values()
    return [{"table": table, "setting": setting, "metric": label, "paper": paper[(table, setting, column)], "ours": ours}
            for label, column, ours in pairs if (table, setting, column) in paper]


def _cost(res: Mapping[str, Any] | None) -> Any:
    if not res:
        return None
    return res["social_cost"] if res.get("applicable", True) else f"not applicable: {res.get('reason', '')}"[:120]


def ood_rows(ood: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows mirroring Tables 3 and S10-S14 (learned mechanisms trained on uniform)."""
    rows: list[dict[str, Any]] = []
    for dist, settings in ood.items():
        if dist == "uniform":
            continue
        for entry in settings.values():
            weighting = _weighting(entry["weights"])
            tables = OOD_TABLES.get((weighting, entry["n"]))
            if tables is None or entry["trained_on"] != "uniform":
                continue
            setting = f"n={entry['n']} {weighting} {dist} K={entry['k']}"
            ins, outs = entry["baselines_in_distribution"], entry["baselines_ood"]
            pairs = [("Per.", "Per.", _cost(ins.get("percentile"))), ("Dict.", "Dict.", _cost(ins.get("dictatorial"))),
                     ("MoulinNet", "MoulinNet", NOT_HERE), ("RegretNet@25k", "RegretNet@25k", NOT_HERE),
                     ("NonSP", "NonSP", entry["nonsp"])]
            pairs += [(f"{label} vs LLMMech-e (OOD)", "LLMMech-e (OOD)", _cost(res)) for label, res in entry["learned"].items()]
            rows += _rows(tables[0], setting, pairs)
            rows += _rows(tables[1], setting, [("Per. (OOD)", "Per. (OOD)", _cost(outs.get("percentile"))),
                                               ("Dict. (OOD)", "Dict. (OOD)", _cost(outs.get("dictatorial")))])
    return rows


def larger_n_rows(larger_n: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows mirroring Tables 4 (n = 10) and S15 (n = 25)."""
    rows: list[dict[str, Any]] = []
    for key, entry in larger_n.items():
        table = LARGER_N_TABLES.get(int(key)) if key.isdigit() else None
        if table is None:
            continue
        for setting_key in entry["percentile"]:
            dist, k = setting_key.split(" K=")
            setting = f"n={key} unweighted {dist} K={k}"
            pairs = [("Per. (refitted at this n)", "Per.", _cost(entry["percentile"][setting_key])),
                     ("MoulinNet", "MoulinNet", NOT_APPLICABLE), ("RegretNet@25k", "RegretNet@25k", NOT_APPLICABLE),
                     ("NonSP", "NonSP", entry["nonsp"][setting_key])]
            pairs += [(f"{label} vs LLMMech-e (smaller n)", "LLMMech-e (smaller n)", _cost(res))
                      for label, res in entry["learned"].items() if f"{res['distribution']} K={res['k']}" == setting_key]
            rows += _rows(table, setting, pairs)
    return rows


def paper_rows(results: Mapping[str, Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``paper_rows`` hook: the paper's values beside ours, labelled."""
    return ood_rows(results.get("ood", {})) + larger_n_rows(results.get("larger_n", {}))


def format_rows(rows: list[dict[str, Any]], digits: int = 5) -> str:
    """Aligned text table of comparison rows (table, setting, metric, paper, ours, ours - paper)."""
    def fmt(v: Any) -> str:
        return f"{v:.{digits}f}" if isinstance(v, float) else ("" if v is None else str(v))

    lines = [("table", "setting", "metric", "paper", "ours", "ours-paper")]
    for r in rows:
        diff = r["ours"] - r["paper"] if isinstance(r["ours"], float) else None
        lines.append((r["table"], r["setting"], r["metric"], fmt(r["paper"]), fmt(r["ours"])[:40], fmt(diff)))
    widths = [max(len(line[i]) for line in lines) for i in range(6)]
    return "\n".join("  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))) for line in lines)


__all__ = ["paper_values", "ood_rows", "larger_n_rows", "paper_rows", "format_rows", "NOT_HERE", "NOT_APPLICABLE"]
