"""What the redistribution notebook and the record's hooks call: one setting's study end to end,
the neural baseline and its distillation, the table over (n, m), and results.json.

For one (n, m): search a rebate rule (offline or LLM proposer), re-score it on the holdout
profiles beside BC, WCO and OEL (paired differences on the same profiles), audit it (random and
adversarial profiles) and find its worst case. Every program runs in one sandbox the notebook
opens (:func:`open_sandbox`), through the Evaluator.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from amdlib.errors import UserError
from amdlib.experiments.redistribution.settings import parse_setting
from amdlib.experiments.shared import search
from amdlib.problems.redistribution import baselines as lin
from amdlib.problems.redistribution import evaluation as ev
from amdlib.problems.redistribution.problem import RedistributionProblem
from amdlib.problems.redistribution.stats import paired_difference, ratio_se

MANUAL = ("bailey_cavallo", "wco", "oel")


def make_problem(params: Mapping[str, Any], n: int | None = None, m: int | None = None) -> RedistributionProblem:
    """The problem of ``params`` (or of the given ``n``, ``m``); bad settings are one-line errors."""
    n = int(params["n_bidders"] if n is None else n)
    m = int(params["n_units"] if m is None else m)
    if not 1 <= m <= n - 2:
        raise UserError(f"n_units must be between 1 and n_bidders - 2 = {n - 2}, got {m}")
    return RedistributionProblem(n, m, params["distribution"], params["n_samples"], params["holdout_samples"],
                                 seed=params["seed"])


def open_sandbox(params: Mapping[str, Any]) -> Any:
    """The sandbox every search, audit and holdout run of a study shares (close it at the end)."""
    from amdlib.core.sandbox import Sandbox

    return Sandbox(workers=params["workers"], memory_mb=RedistributionProblem.memory_mb)


def learned_mechanism(problem: RedistributionProblem, code: str, sandbox: Any) -> ev.Mechanism:
    """Evolved ``code`` as a mechanism, run through the Evaluator in ``sandbox``."""
    from amdlib.core.evaluator import Evaluator

    return ev.code_mechanism(Evaluator(problem, sandbox), code)


def manual_mechanisms(n: int, m: int, distribution: str) -> dict[str, ev.Mechanism]:
    """BC, WCO and OEL as mechanisms (paid as they are: they are IR and non-deficit)."""
    return {name: ev.rule_mechanism(lin.linear_rebate(lin.oel(n, m, distribution) if name == "oel"
                                                      else lin.RULES[name](n, m)), n, m, fixed=False)
            for name in MANUAL}


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
    The result holds the search (``search``) and, for a valid program, the learned and manual
    mechanisms (``mechanisms``, for plots).
    """
    problem = make_problem(params, n, m)
    if progress:
        print(f"setting {n}x{m}: {params['method']} search over {budget} evaluations", flush=True)
    result = search(problem, params, {"max_evaluations": budget}, progress=progress, sandbox=sandbox)
    if progress:
        print(f"setting {n}x{m}: best search fraction {result.best.score:.4f}; holdout comparison, audit on "
              f"{params['audit_profiles']:,} profiles and worst case", flush=True)
    if not result.best.valid:
        return {"setting": f"{n}x{m}", "n": n, "m": m, "valid": False, "error": result.best.evaluation.error,
                "search": result}
    learned = learned_mechanism(problem, result.best.code, sandbox)
    rules = manual_mechanisms(n, m, params["distribution"])
    comparison = holdout_comparison(problem, learned, rules)
    best_manual = max(MANUAL, key=lambda k: comparison[k]["expected_fraction"])
    return {
        "setting": f"{n}x{m}", "n": n, "m": m, "valid": True, "code": result.best.code,
        "search_fraction": result.best.score, "comparison": comparison, "best_manual": best_manual,
        "z_vs_best_manual": comparison[best_manual]["z"],
        "audit": ev.audit(learned, n, m, params["audit_profiles"], params["distribution"], params["seed"]),
        "worst_case": ev.worst_case(learned, n, m, params["seed"]),
        "search": result, "mechanisms": {"learned (fixed)": learned, **rules},
    }


def study_table(params: Mapping[str, Any], main: Mapping[str, Any], sandbox: Any, progress: bool = True) -> list[Any]:
    """One study per entry of ``settings`` (budget ``table_evaluations``); the main setting's is ``main``."""
    n, m = int(params["n_bidders"]), int(params["n_units"])
    return [main if (nn, mm) == (n, m) else study_setting(params, nn, mm, params["table_evaluations"], sandbox, progress)
            for nn, mm in map(parse_setting, params["settings"])]


def neural_study(params: Mapping[str, Any], sandbox: Any, progress: bool = True) -> dict[str, Any]:
    """Train the rebate network, fix it, distil it into code (NNA), fix that; holdout fractions of both."""
    from amdlib.problems.redistribution import neural
    from amdlib.problems.redistribution.nna import DistillProblem

    problem = make_problem(params)
    n, m = problem.n, problem.m
    if progress:
        print(f"training the rebate network: {params['neural_steps']} steps", flush=True)
    net = neural.train(n, m, params["distribution"], steps=params["neural_steps"], seed=params["seed"])
    net_mech = ev.rule_mechanism(net.rebate, n, m)
    distill = DistillProblem(problem, net.rebate)
    if progress:
        print(f"NNA: distilling the network into code, {params['nna_evaluations']} evaluations", flush=True)
    result = search(distill, params, {"max_evaluations": params["nna_evaluations"], "holdout": False},
                    progress=progress, sandbox=sandbox)
    profiles = problem.profiles("holdout")
    revenue = m * profiles[:, m]
    net_total, net_raw = ev.totals(net_mech, profiles)
    out: dict[str, Any] = {"neural": {**_summary(net_total, revenue, net_raw), "training": net.trace},
                           "net": net, "nna_search": result}
    nna_valid = result.best.valid and bool(result.best.code)
    if nna_valid:
        nna_mech = learned_mechanism(problem, result.best.code, sandbox)
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
