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
        out[name] = {"coefficients": [round(float(v), 10) + 0.0 for v in c],
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
                  progress: bool = True) -> dict[str, Any]:
    """Search, holdout comparison, audit and worst case for one (n, m).

    With ``progress`` a line names the setting and the search shows its progress bar
    (candidates, best score; `amd run` turns it into a line every few seconds in a pipe).
    """
    from amdlib.core.engine import SearchConfig, run_search

    problem = make_problem(params, n, m)
    config = SearchConfig.from_params({**params, "max_evaluations": budget})
    if progress:
        print(f"setting {n}x{m}: {config.method} search over {budget} evaluations", flush=True)
    result = run_search(problem, config, progress=progress, sandbox=sandbox)
    if progress:
        print(f"setting {n}x{m}: best search fraction {result.best.score:.4f}; holdout comparison, audit on "
              f"{params['audit_profiles']:,} profiles and worst case", flush=True)
    if not result.best.valid:
        return {"setting": f"{n}x{m}", "n": n, "m": m, "valid": False, "error": result.best.evaluation.error,
                "search": result}
    learned = ev.code_mechanism(sandbox, problem, result.best.code)
    rules = {name: ev.rule_mechanism(lin.linear_rebate(c), n, m, fixed=False) for name, c in
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
             "ours": ours.get(row["metric"]), "comparable": False} for row in paper_rows()]


def rebate_curve(mech: ev.Mechanism, others: np.ndarray, q: int, grid: np.ndarray) -> np.ndarray:
    """Fixed rebate of a bidder whose others are ``others`` with order statistic ``q`` set to each grid value.

    The bidder's own bid is put at 0 (its rebate does not depend on it).
    """
    rows = np.repeat(np.asarray(others, float)[None], grid.size, axis=0)
    rows[:, q] = grid
    profiles = -np.sort(-np.concatenate([rows, np.zeros((grid.size, 1))], axis=1), axis=1)
    return mech(profiles)["rebates"][:, -1]


def neural_study(params: Mapping[str, Any], sandbox: Any, progress: bool = True) -> dict[str, Any]:
    """Train the rebate network, fix it, distil it into code (NNA), fix that; holdout fractions of both."""
    from amdlib.core.engine import SearchConfig, run_search
    from amdlib.problems.redistribution import neural
    from amdlib.problems.redistribution.nna import DistillProblem

    problem = make_problem(params)
    n, m = problem.n, problem.m
    if progress:
        print(f"training the rebate network: {params['neural_steps']} steps", flush=True)
    net = neural.train(n, m, params["distribution"], steps=params["neural_steps"], seed=params["seed"])
    net_mech = ev.rule_mechanism(net.rebate, n, m)
    distill = DistillProblem(problem, net.rebate)
    config = SearchConfig.from_params({**params, "max_evaluations": params["nna_evaluations"], "holdout": False})
    if progress:
        print(f"NNA: distilling the network into code, {params['nna_evaluations']} evaluations", flush=True)
    result = run_search(distill, config, progress=progress, sandbox=sandbox)
    profiles = problem.profiles("holdout")
    revenue = m * profiles[:, m]
    net_total, net_raw = ev.totals(net_mech, profiles)
    out: dict[str, Any] = {"neural": {**_summary(net_total, revenue, net_raw), "training": net.trace},
                           "net": net, "nna_search": result}
    nna_valid = result.best.valid and bool(result.best.code)
    if nna_valid:
        nna_mech = ev.code_mechanism(sandbox, problem, result.best.code)
        nna_total, nna_raw = ev.totals(nna_mech, profiles)
        diff, se = paired_difference(net_total, nna_total, revenue)
        out["nna"] = {**_summary(nna_total, revenue, nna_raw), "code": result.best.code,
                      "rmse": result.best.evaluation.metrics.get("rmse"), "gap": diff, "gap_se": se}
    else:
        out["nna"] = {"expected_fraction": None, "error": result.best.evaluation.error or "no valid program"}
    return out


def assemble(params: Mapping[str, Any], main: Mapping[str, Any], nets: Mapping[str, Any],
             table: list[Mapping[str, Any]]) -> dict[str, Any]:
    """results.json: every number computed by this run (the paper's only in ``paper``, labelled)."""
    n, m = int(params["n_bidders"]), int(params["n_units"])
    comp = main.get("comparison", {})
    learned = comp.get("learned", {})
    best_manual = main.get("best_manual")
    rules = manual_rules(n, m, params["distribution"])
    base: dict[str, Any] = {k: {**{kk: vv for kk, vv in comp.get(k, {}).items()}, **rules[k]} for k in MANUAL}
    base["best_manual"] = best_manual
    base["best_manual_fraction"] = comp.get(best_manual, {}).get("expected_fraction")
    base["neural"] = {k: v for k, v in nets["neural"].items() if k != "training"}
    base["nna"] = dict(nets["nna"])

    def row(res: Mapping[str, Any]) -> dict[str, Any]:
        if not res.get("valid"):
            return {"setting": res["setting"], "valid": False, "error": res.get("error", "")}
        c = res["comparison"]
        return {"setting": res["setting"], "valid": True, "learned": c["learned"]["expected_fraction"],
                "learned_se": c["learned"]["expected_fraction_se"],
                **{k: c[k]["expected_fraction"] for k in MANUAL}, "best_manual": res["best_manual"],
                "gain": c[res["best_manual"]]["learned_minus"], "gain_se": c[res["best_manual"]]["learned_minus_se"],
                "z": res["z_vs_best_manual"], "worst_case": res["worst_case"]["worst_case_fraction"],
                "deficits": res["audit"]["deficits"], "negative_rebates": res["audit"]["negative_rebates"],
                "audited_profiles": res["audit"]["random_profiles"] + res["audit"]["adversarial_profiles"],
                "code": res["code"]}

    return {
        "setting": {"n_bidders": n, "n_units": m, "distribution": params["distribution"],
                    "expected_revenue": lin.expected_revenue(n, m, params["distribution"]),
                    "holdout_samples": params["holdout_samples"]},
        "best": {"code": main.get("code", ""), **learned,
                 "search_fraction": main.get("search_fraction"),
                 "worst_case_fraction": main.get("worst_case", {}).get("worst_case_fraction"),
                 "worst_profile": main.get("worst_case", {}).get("worst_profile"),
                 "best_manual": best_manual,
                 "minus_best_manual": comp.get(best_manual, {}).get("learned_minus"),
                 "minus_best_manual_se": comp.get(best_manual, {}).get("learned_minus_se"),
                 "z_vs_best_manual": main.get("z_vs_best_manual")},
        "baselines": base,
        "audit": dict(main.get("audit", {"deficits": None, "negative_rebates": None})),
        "table": [row(r) for r in table],
        "settings_beating_best_manual_3se": sum(1 for r in table if r.get("valid") and r["z_vs_best_manual"] > 3),
    }
