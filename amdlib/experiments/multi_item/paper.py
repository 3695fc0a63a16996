"""The literature's comparison: analytic revenues for two U[0, 1] items beside ours (the
``paper_rows`` hook)."""

from __future__ import annotations

from typing import Any, Mapping

from amdlib.core.paperdata import rows as paper_data


def paper_tables(results: Mapping[str, Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Literature values (analytic, two U[0, 1] items) beside ours; none for another distribution
    (the literature's figures are for U[0, 1] only, so nothing there compares)."""
    if results.get("setting", {}).get("distribution") != "uniform":
        return []
    base = results.get("baselines", {})
    ours = {
        "optimal revenue (Manelli-Vincent)": results.get("optimum_revenue"),
        "learned mechanism revenue": results.get("best", {}).get("revenue"),
        "pure bundling revenue": (base.get("bundling") or {}).get("revenue"),
        "selling separately revenue": (base.get("separate") or {}).get("revenue"),
    }
    return [{"table": rec.table, "setting": rec.setting, "metric": rec.metric, "paper": rec.value,
             "ours": ours.get(rec.metric), "note": rec.note, "comparable": True} for rec in paper_data("multi_item")]
