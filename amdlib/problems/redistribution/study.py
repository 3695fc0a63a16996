"""What the redistribution notebook and ``amd baselines`` call: one setting's study end to end.

For one (n, m): search a rebate rule (offline or LLM proposer), re-score it on
the holdout profiles beside BC, WCO and OEL (paired differences on the same
profiles), audit it (random and adversarial profiles) and find its worst case.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from amdlib.errors import UserError
from amdlib.problems.redistribution import baselines as lin
from amdlib.problems.redistribution import evaluation as ev
from amdlib.problems.redistribution.problem import RedistributionProblem
from amdlib.problems.redistribution.stats import paired_difference, ratio_se

SETTING_RE = re.compile(r"^\s*(\d+)\s*x\s*(\d+)\s*$")
MANUAL = ("bailey_cavallo", "wco", "oel")
PAPER_CSV = Path(__file__).resolve().parents[2] / "data" / "paper" / "redistribution.csv"


def setting_error(value: Any) -> str | None:
    """Param check of ``settings``: each item is ``"NxM"`` with 1 <= M <= N - 2 and N <= 12."""
    for item in value:
        match = SETTING_RE.match(str(item))
        if not match:
            return f"setting {item!r} is not of the form NxM (e.g. 4x2)"
        n, m = int(match.group(1)), int(match.group(2))
        if not (3 <= n <= 12 and 1 <= m <= n - 2):
            return f"setting {item!r} needs 3 <= N <= 12 and 1 <= M <= N - 2"
    return None


def parse_setting(item: str) -> tuple[int, int]:
    """``"4x2"`` -> ``(4, 2)``."""
    match = SETTING_RE.match(str(item))
    if not match:
        raise UserError(f"setting {item!r} is not of the form NxM (e.g. 4x2)")
    return int(match.group(1)), int(match.group(2))


def make_problem(params: Mapping[str, Any], n: int | None = None, m: int | None = None) -> RedistributionProblem:
    """The problem of ``params`` (or of the given ``n``, ``m``); bad settings are one-line errors."""
    n = int(params["n_bidders"] if n is None else n)
    m = int(params["n_units"] if m is None else m)
    if not 1 <= m <= n - 2:
        raise UserError(f"n_units must be between 1 and n_bidders - 2 = {n - 2}, got {m}")
    return RedistributionProblem(n, m, params["distribution"], params["n_samples"], params["holdout_samples"],
                                 seed=params["seed"])


def manual_rules(n: int, m: int, distribution: str) -> dict[str, dict[str, Any]]:
    """BC, WCO and OEL: coefficients, exact expected and worst-case fractions (and closed forms)."""
    out: dict[str, dict[str, Any]] = {}
    for name in MANUAL:
        c = lin.RULES[name](n, m) if name != "oel" else lin.oel(n, m, distribution)
        out[name] = {"coefficients": [round(float(v), 10) for v in c],
                     "expected_fraction_exact": lin.expected_fraction(c, n, m, distribution),
                     "worst_case_fraction": lin.linear_worst_case(c, n, m)}
    if distribution == "uniform":
        out["bailey_cavallo"]["closed_form"] = lin.bc_expected_fraction_uniform(n, m)
    out["wco"]["closed_form_worst_case"] = lin.wco_alpha(n, m)
    return out


def baselines(params: Mapping[str, Any]) -> dict[str, Any]:
    """``amd baselines redistribution``: the manual rules' expected and worst-case fractions."""
    n, m = int(params["n_bidders"]), int(params["n_units"])
    if not 1 <= m <= n - 2:
        raise UserError(f"n_units must be between 1 and n_bidders - 2 = {n - 2}, got {m}")
    rules = manual_rules(n, m, params["distribution"])
    return {"setting": {"n_bidders": n, "n_units": m, "distribution": params["distribution"],
                        "expected_revenue": lin.expected_revenue(n, m, params["distribution"])},
            **rules,
            "best_manual": max(rules, key=lambda k: rules[k]["expected_fraction_exact"])}


def holdout_comparison(problem: RedistributionProblem, learned: ev.Mechanism,
                       others: Mapping[str, ev.Mechanism]) -> dict[str, Any]:
    """Each mechanism's holdout fraction (SE) and the learned one's paired difference to each."""
    profiles = problem.profiles("holdout")
    revenue = profiles[:, problem.m] * problem.m
    mine, raw = ev.totals(learned, profiles)
    out: dict[str, Any] = {"learned": _summary(mine, revenue, raw)}
    for name, mech in others.items():
        t, _ = ev.totals(mech, profiles)
        diff, se = paired_difference(mine, t, revenue)
        out[name] = {"expected_fraction": float(t.mean() / revenue.mean()), "expected_fraction_se": ratio_se(t, revenue),
                     "learned_minus": diff, "learned_minus_se": se, "z": diff / se if se > 0 else float("inf")}
    return out


def _summary(total: np.ndarray, revenue: np.ndarray, raw: Mapping[str, np.ndarray]) -> dict[str, float]:
    clipped = np.maximum(raw["raw"], 0.0)
    return {"expected_fraction": float(total.mean() / revenue.mean()), "expected_fraction_se": ratio_se(total, revenue),
            "expected_redistribution": float(total.mean()),
            "expected_redistribution_se": float(total.std(ddof=1) / np.sqrt(total.size)),
            "fix_loss": float(np.maximum(clipped - raw["rebates"], 0).sum(axis=1).mean() / revenue.mean()),
            "fix_gain": float(np.maximum(raw["rebates"] - clipped, 0).sum(axis=1).mean() / revenue.mean())}


def study_setting(params: Mapping[str, Any], n: int, m: int, budget: int, sandbox: Any,
                  progress: bool = False) -> dict[str, Any]:
    """Search, holdout comparison, audit and worst case for one (n, m)."""
    from amdlib.core.engine import SearchConfig, run_search

    problem = make_problem(params, n, m)
    config = SearchConfig.from_params({**params, "max_evaluations": budget})
    result = run_search(problem, config, progress=progress, sandbox=sandbox)
    if not result.best.valid:
        return {"setting": f"{n}x{m}", "n": n, "m": m, "valid": False, "error": result.best.evaluation.error,
                "search": result}
    learned = ev.code_mechanism(sandbox, problem, result.best.code)
    rules = {name: ev.rule_mechanism(lin.linear_rebate(c), n, m) for name, c in
             (("bailey_cavallo", lin.bailey_cavallo(n, m)), ("wco", lin.wco(n, m)),
              ("oel", lin.oel(n, m, params["distribution"])))}
    comparison = holdout_comparison(problem, learned, rules)
    best_manual = max(MANUAL, key=lambda k: comparison[k]["expected_fraction"])
    return {
        "setting": f"{n}x{m}", "n": n, "m": m, "valid": True, "code": result.best.code,
        "search_fraction": result.best.score, "comparison": comparison, "best_manual": best_manual,
        "z_vs_best_manual": comparison[best_manual]["z"],
        "audit": ev.audit(learned, n, m, params["audit_profiles"], params["distribution"], params["seed"]),
        "worst_case": ev.worst_case(learned, n, m, params["seed"]),
        "search": result,
    }


def paper_rows() -> list[dict[str, str]]:
    """The paper's reported numbers (data/paper/redistribution.csv)."""
    with PAPER_CSV.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def paper_tables(results: Mapping[str, Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Report hook: the paper's headline numbers beside ours (an unstated setting: not comparable)."""
    ours = {
        "prior manual method": results.get("baselines", {}).get("best_manual_fraction"),
        "AMD-LLM": results.get("best", {}).get("expected_fraction"),
        "RegretNet": results.get("baselines", {}).get("neural", {}).get("expected_fraction"),
        "NNA-AMD-LLM": results.get("baselines", {}).get("nna", {}).get("expected_fraction"),
    }
    setting = results.get("setting", {})
    label = f"ours: n={setting.get('n_bidders')} m={setting.get('n_units')} {setting.get('distribution')} (paper: unstated)"
    return [{"table": row["table"], "setting": label, "metric": row["metric"], "paper": float(row["value"]),
             "ours": ours.get(row["metric"])} for row in paper_rows()]


def rebate_curve(mech: ev.Mechanism, others: np.ndarray, q: int, grid: np.ndarray) -> np.ndarray:
    """Fixed rebate of a bidder whose others are ``others`` with order statistic ``q`` set to each grid value.

    The bidder's own bid is put at 0 (its rebate does not depend on it).
    """
    rows = np.repeat(np.asarray(others, float)[None], grid.size, axis=0)
    rows[:, q] = grid
    profiles = -np.sort(-np.concatenate([rows, np.zeros((grid.size, 1))], axis=1), axis=1)
    return mech(profiles)["rebates"][:, -1]
