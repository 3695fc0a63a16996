"""The paper's facility-location numbers beside ours: the report's ``paper_rows`` hook and the
notebook's plain-text tables.

The paper's values come from ``amdlib/data/paper/facility_location.csv`` through the package's one
reader (:mod:`amdlib.core.paperdata`); ours only from a run's results.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from amdlib.core import paperdata

#: Our baseline names -> the paper's column metric names.
COLUMNS = {"percentile": "per", "dictatorial": "dict", "constant": "cons", "moulinnet": "moulinnet",
           "regretnet": "regretnet", "nonsp": "nonsp"}
LEARNED = {"eoh": "llmmech", "eoh-e": "llmmech_e"}
#: The tables that print one setting's cells, in the order a setting's table is chosen: Table 1
#: (fixed weights), Table 2 (n = 5 unweighted uniform, RegretNet trained on 25k profiles), S6, S8
#: and S9 (unweighted, n = 5, 10, 25, RegretNet on 1k). Table S7 repeats Table 2's setting with
#: both RegretNets; it is drawn from the runs (items), not a run's rows.
CELL_TABLES = ("Table 1", "Table 2", "Table S6", "Table S8", "Table S9")
#: RegretNet's training profiles in Table 2 ("RegretNet@25k"); every other table's runs train on 1k.
REGRETNET_25K = 25_000


def setting_key(n: int, k: int, distribution: str, weights: str) -> str:
    """The CSV's setting label, e.g. ``n=5 K=2 uniform weights=fixed``."""
    return f"n={n} K={k} {distribution} weights={weights}"


def regretnet_metric(table: str) -> str:
    """The paper's metric of the RegretNet column a table prints (Table 2: ``regretnet25k``)."""
    return "regretnet25k" if table == "Table 2" else "regretnet"


def paper_cells(n: int, k: int, distribution: str, weights: str,
                regretnet_train: int = 1000) -> tuple[str, dict[str, float]]:
    """(table id, metric -> value) for a setting: Table 1 for fixed weights; unweighted n = 5
    uniform with RegretNet trained on 25k profiles is Table 2, on 1k Table S6; n = 10 S8, n = 25 S9.
    ("", {}) when no table prints the setting."""
    found: dict[str, dict[str, float]] = {}
    for row in paperdata.rows("facility_location", setting=setting_key(n, k, distribution, str(weights))):
        if row.table in CELL_TABLES:
            found.setdefault(row.table, {})[row.metric] = row.value
    wanted = [t for t in CELL_TABLES if t in found and (t == "Table 2") == (regretnet_train >= REGRETNET_25K)]
    wanted = wanted or [t for t in CELL_TABLES if t in found]
    return (wanted[0], found[wanted[0]]) if wanted else ("", {})


def handcrafted(per: Any, dictatorial: Any) -> float | None:
    """The best handcrafted rule's cost: the lower of the percentile and dictatorial costs given."""
    vals = [v for v in (per, dictatorial) if isinstance(v, (int, float))]
    return min(vals) if vals else None


def paper_rows(results: Mapping[str, Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Report hook: rows {table, setting, metric, paper, ours} for the run's setting, then, when the
    run had ``table1_grid``, one group per Table-1 setting of its in-notebook grid. ``paper`` holds
    only numbers the paper printed; a regret it printed none for, and ratios derived from its
    numbers, are said in the row's metric or note, never put in ``paper``."""
    rows = _setting_rows(results, params)
    paper_col = LEARNED.get(params.get("method", ""), "llmmech_e")
    for r in (results.get("table1") or {}).get("rows", []):
        rows += _outcome_rows(r["n"], r["K"], r["distribution"], "fixed", paper_col, f"grid: learned ({params.get('method')})",
                              r["learned"], r["learned_max_regret"], r["outcome"])
    return rows


#: Why a learned column's regret has no number: the paper prints a regret only where it is not zero.
NO_REGRET_PRINTED = "the paper prints no regret here (its convention: printed only where not zero)"


def _regret_row(cells: Mapping[str, float], col: str) -> tuple[float | None, str | None]:
    """The paper's printed regret of a learned column (``None`` and a note when it printed none)."""
    if col not in cells:
        return None, None
    value = cells.get(col + "_regret")
    return (value, None) if value is not None else (None, NO_REGRET_PRINTED)


def _outcome_rows(n: int, k: int, distribution: str, weights: str, paper_col: str, label: str, cost: Any, regret: Any,
                  outcome: Any) -> list[dict[str, Any]]:
    """Learned cost and regret beside the paper's learned column, and the outcome against our best
    percentile rule (ours only: ``comparable`` False, so the report shows no difference)."""
    table, cells = paper_cells(n, k, distribution, weights)
    setting = setting_key(n, k, distribution, weights)
    paper_regret, note = _regret_row(cells, paper_col)
    return [
        {"table": table, "setting": setting, "metric": f"{label} vs {paper_col} social cost", "paper": cells.get(paper_col), "ours": cost},
        {"table": table, "setting": setting, "metric": f"{label} vs {paper_col} max regret", "paper": paper_regret,
         "ours": regret, **({"note": note} if note else {})},
        {"table": table, "setting": setting, "metric": f"{label} vs best percentile rule (ours, test)", "paper": None,
         "ours": outcome, "comparable": False},
    ]


#: A paired mean difference this small is floating-point noise of two rules that place the same
#: facilities (K = 1: every SP rule the search finds is the median), not a verdict.
EQUAL_TOL = 1e-9


def verdict_text(v: Mapping[str, Any]) -> str:
    """A paired verdict as text: ``better (-0.03284 +- 0.00017)``; differences below
    :data:`EQUAL_TOL` read ``equal (same facilities on X% of profiles)``, never ``better (-0.000000 ...)``."""
    mean, se = v.get("mean_difference"), v.get("paired_se")
    if not isinstance(mean, (int, float)):
        return str(v.get("verdict", "-"))
    if abs(mean) < EQUAL_TOL:
        share = v.get("identical_share")
        same = f"; same cost on {100 * share:.0f}% of profiles" if isinstance(share, (int, float)) else ""
        return f"equal (|diff| < {EQUAL_TOL:g}{same})"
    small = abs(mean) < 1e-4  # five decimals would print it as 0.00000
    number = (lambda x, sign="": f"{x:{sign}.2e}") if small else (lambda x, sign="": f"{x:{sign}.5f}")
    se_text = number(se) if isinstance(se, (int, float)) else "?"
    return f"{v.get('verdict', '-')} ({number(mean, '+')} +- {se_text})"


def _setting_rows(results: Mapping[str, Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The run's own setting: baselines and the learned mechanism beside the paper's cell, the
    ratio to the best handcrafted rule (the paper's, derived from its printed numbers, in the
    metric's text), and the paired verdicts."""
    regretnet_train = int(params.get("regretnet_train", 1000))
    table, cells = paper_cells(params["n_agents"], params["n_facilities"], params["distribution"], params["weights"],
                               regretnet_train)
    if not cells:
        return []
    setting = setting_key(params["n_agents"], params["n_facilities"], params["distribution"], params["weights"])

    def row(metric: str, paper: Any, ours: Any, **kw: Any) -> dict[str, Any]:
        return {"table": table, "setting": setting, "metric": metric, "paper": paper, "ours": ours, **kw}

    rows = []
    base = results.get("baselines") or {}
    for ours_name, metric in COLUMNS.items():
        paper_metric = regretnet_metric(table) if ours_name == "regretnet" else metric
        if base.get(ours_name) and paper_metric in cells:
            shown = f"{paper_metric} social cost" + (f" (ours: {regretnet_train} training profiles)" if ours_name == "regretnet" else "")
            rows.append(row(shown, cells[paper_metric], base[ours_name].get("social_cost")))
            if base[ours_name].get("budget_note"):
                rows.append(row(f"{paper_metric} training budget (paper: 1000 epochs x 10 restarts)", None,
                                base[ours_name]["budget_note"], comparable=False))
    best = results.get("best") or {}
    if not best:
        return rows
    cost, se = best.get("test_social_cost"), best.get("test_social_cost_se")
    rows.append(row("learned social cost (test) vs LLMMech", cells.get("llmmech"), cost))
    rows.append(row("learned social cost (test) vs LLMMech-e", cells.get("llmmech_e"), cost))
    for col, label in (("llmmech", "LLMMech"), ("llmmech_e", "LLMMech-e")):
        paper_regret, note = _regret_row(cells, col)
        rows.append(row(f"learned max regret vs {label}", paper_regret, best.get("max_regret"), **({"note": note} if note else {})))
    rows.append(row("learned standard error (test)", None, se, comparable=False))
    rows.append(row("learned dense-audit max regret", None, best.get("dense_audit_max_regret"), comparable=False))
    ours_hb = handcrafted(base.get("percentile", {}).get("social_cost"), base.get("dictatorial", {}).get("social_cost"))
    paper_hb = handcrafted(cells.get("per"), cells.get("dict"))
    for col, label in (("llmmech", "LLMMech"), ("llmmech_e", "LLMMech-e")):
        if ours_hb and paper_hb and cost is not None and col in cells:
            rows.append(row(f"ratio to best handcrafted: learned (the paper's {label}: {cells[col] / paper_hb:.4f}, derived "
                            f"from its printed numbers, not printed)", None, cost / ours_hb, comparable=False))
    for name, v in ((results.get("verdicts") or {}).get("vs") or {}).items():
        rows.append(row(f"paired verdict vs {name} ({results['verdicts']['profiles']} fresh profiles)", None,
                        verdict_text(v), comparable=False))
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


def comparison_rows(ours: Mapping[str, float], n: int, k: int, distribution: str, weights: str,
                    regretnet_train: int = 1000) -> list[list[Any]]:
    """[method, ours, paper, ours - paper, relative %] for the baselines of one setting (the
    paper's RegretNet column is the one its table prints: RegretNet@25k in Table 2)."""
    table, cells = paper_cells(n, k, distribution, weights, regretnet_train)
    rows = []
    for name, metric in COLUMNS.items():
        if name not in ours:
            continue
        paper = cells.get(regretnet_metric(table) if name == "regretnet" else metric)
        diff = None if paper is None or ours[name] is None else ours[name] - paper
        rel = None if diff is None else 100.0 * diff / paper
        rows.append([name, ours[name], paper, diff, None if rel is None else f"{rel:+.1f}"])
    return rows


__all__ = ["COLUMNS", "LEARNED", "CELL_TABLES", "REGRETNET_25K", "setting_key", "regretnet_metric", "paper_cells",
           "verdict_text", "handcrafted", "paper_rows", "text_table", "comparison_rows"]
