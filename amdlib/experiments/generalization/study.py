"""The work of Experiment 5: the problems, and the learned mechanisms out of distribution and at larger n.

Mechanisms are learned on Experiment 4's problem (:func:`make_problem`). Every learned
mechanism is evaluated in the sandbox through Experiment 4's scorer, on the setting's
:class:`ScaledFacilityProblem` (:func:`setting_problem`); baselines are trusted and scored
in-process by the same harness and scorer. All costs are on test profiles; rules are fitted on
training profiles.
"""

from __future__ import annotations

from math import comb
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from amdlib.core.evaluator import Evaluator
from amdlib.core.sandbox import Sandbox
from amdlib.experiments.generalization.sources import Learned, load_run, weight_label
from amdlib.problems.facility.audit import audit_code
from amdlib.problems.facility.baselines import fit_dictatorial
from amdlib.problems.facility.costs import social_costs
from amdlib.problems.facility.data import make_profiles
from amdlib.problems.facility.evaluation import score_outputs
from amdlib.problems.facility.harness import harness as facility_harness
from amdlib.problems.facility.problem import FacilityProblem
from amdlib.problems.generalization.optimum import fit_percentile_dp, nonsp_cost
from amdlib.problems.generalization.problem import ScaledFacilityProblem, output_mb

#: Dictatorial rules are fitted by brute force over C(n, K) agent sets up to this many sets.
MAX_DICTATOR_SETS = 5000
NEURAL_NOTE = "not applicable: MoulinNet and RegretNet take a fixed number of agents (retraining needed at this n)"


def make_problem(params: Mapping[str, Any], k: int | None = None, weights: str | None = None) -> FacilityProblem:
    """The Experiment 4 problem a mechanism is learned on here: ``learn_distribution`` peaks (uniform
    unless set), ``learn_n`` agents,
    K facilities (default: the first of ``ks``) and the weighting (default: the first of
    ``weightings``), strict epsilon 0, the run's sample sizes, seed and ``seed_rule``."""
    k = params["ks"][0] if k is None else k
    weights = str(params["weightings"][0]) if weights is None else weights
    return FacilityProblem(n_agents=params["learn_n"], n_facilities=k, distribution=learn_distribution(params), weights=weights,
                           epsilon=0.0, n_train=params["n_train"], n_test=params["n_test"],
                           n_misreports=params["n_misreports"], seed=params["seed"],
                           seed_rule=params.get("seed_rule", "percentile"))


def learn_distribution(params: Mapping[str, Any]) -> str:
    """The peak distribution the run's own searches learn on (runs from before the parameter: uniform)."""
    return str(params.get("learn_distribution", "uniform"))


def setting_problem(n: int, k: int, distribution: str, weights: str, params: Mapping[str, Any],
                    convention: str = "vectorized") -> ScaledFacilityProblem:
    """The problem a learned mechanism is evaluated on in one setting (any n, any distribution),
    with the run's sample sizes, seed and ``timeout_s``."""
    return ScaledFacilityProblem(n_agents=n, n_facilities=k, distribution=distribution, weights=weights, epsilon=0.0,
                                 n_train=params["n_train"], n_test=params["n_test"], n_misreports=params["n_misreports"],
                                 seed=params["seed"], convention=convention, timeout_s=params["timeout_s"])


def learn_here(params: Mapping[str, Any], progress: bool = False) -> tuple[list[Learned], dict[str, Any]]:
    """Learn one mechanism per (K, weighting) on ``learn_distribution`` peaks with Experiment 4's problem
    (:func:`make_problem`) and the run's search settings.
    Returns the mechanisms and the search results (for the ledger)."""
    from amdlib.core.engine import SearchConfig, run_search

    learned, searches = [], {}
    config = SearchConfig.from_params(dict(params))
    dist = learn_distribution(params)
    for k in params["ks"]:
        for weights in params["weightings"]:
            result = run_search(make_problem(params, k, weights), config, progress=progress)
            label = f"K={k} {weight_label(weights)}{'' if dist == 'uniform' else ' on ' + dist} (learned here)"
            searches[label] = result
            learned.append(Learned(label=label, code=result.best.code, n=int(params["learn_n"]), k=int(k), distribution=dist,
                                   weights=str(weights), convention="vectorized", source="search in this run"))
    return learned, searches


def learned_mechanisms(params: Mapping[str, Any], outputs: str | Path, progress: bool = False) -> tuple[list[Learned], dict[str, Any]]:
    """The run's mechanisms: read from ``source_runs`` under the outputs folder ``outputs``, or,
    when it is empty, learned here (:func:`learn_here`). Returns them and the searches run."""
    if params["source_runs"]:
        return [load_run(rid, outputs) for rid in params["source_runs"]], {}
    return learn_here(params, progress=progress)


def open_sandbox(params: Mapping[str, Any], ks: Iterable[int]) -> Sandbox:
    """A sandbox whose output allowance fits the largest evaluation of the run."""
    n_max = max([*params["larger_ns"], 10])
    need = output_mb(n_max, params["n_misreports"], params["n_test"], max([*ks, 1]))
    return Sandbox(workers=params["workers"], memory_mb=max(2048, 4 * need), max_output_mb=max(64, need))


def _summary(ev: Any) -> dict[str, Any]:
    if not ev.valid:
        return {"applicable": False, "reason": ev.error or "invalid"}
    return {"applicable": True, "social_cost": ev.metrics["social_cost"], "max_regret": ev.metrics["max_regret"]}


def evaluate_learned(sandbox: Sandbox, problem: ScaledFacilityProblem, code: str) -> dict[str, Any]:
    """A learned mechanism on the problem's test profiles; a failure (e.g. it cannot take this
    n) is reported with its reason, never raised."""
    try:
        return _summary(Evaluator(problem, sandbox).evaluate_code(code, "holdout"))
    except Exception as exc:  # noqa: BLE001 - one mechanism must not end the study
        return {"applicable": False, "reason": f"{type(exc).__name__}: {exc}"}


def evaluate_rule(fn: Callable, problem: ScaledFacilityProblem) -> dict[str, Any]:
    """A trusted rule on the problem's test profiles, by the same (block) harness and scorer."""
    payload = problem.payload("holdout")
    return _summary(score_outputs(facility_harness(fn, payload), payload, 0.0))


def fit_rules(train: ScaledFacilityProblem) -> dict[str, Any]:
    """Best percentile rule (exact DP) and best dictatorial rule (brute force, small n) on training profiles."""
    peaks = train.profiles("search").peaks
    rules = {"percentile": fit_percentile_dp(peaks, train.weights, train.k)}
    if comb(train.n, train.k) <= MAX_DICTATOR_SETS:
        rules["dictatorial"] = fit_dictatorial(peaks, train.weights, train.k)
    return rules


def _rule_results(rules: Mapping[str, Any], problem: ScaledFacilityProblem) -> dict[str, Any]:
    return {name: {**evaluate_rule(r.fn, problem), "choice": [float(c) for c in r.choice]} for name, r in rules.items()}


def ood_study(learned: list[Learned], params: Mapping[str, Any], sandbox: Sandbox) -> dict[str, Any]:
    """Per test distribution and training setting: the learned mechanisms, the baselines fitted
    in distribution and fitted on uniform (OOD), and the non-SP optimum."""
    out: dict[str, Any] = {}
    groups: dict[tuple, list[Learned]] = {}
    for mech in learned:
        groups.setdefault((mech.n, mech.k, mech.weights, mech.distribution), []).append(mech)
    # the rules fitted on the training distribution are the same for every test distribution: fit once
    trained = {group: fit_rules(setting_problem(group[0], group[1], group[3], group[2], params)) for group in groups}
    for dist in ["uniform", *[d for d in params["ood_distributions"] if d != "uniform"]]:
        per_dist: dict[str, Any] = {}
        for (n, k, weights, trained_on), mechs in groups.items():
            test = setting_problem(n, k, dist, weights, params)
            ood_rules = trained[(n, k, weights, trained_on)]
            entry = {
                "n": n, "k": k, "weights": weights, "trained_on": trained_on,
                "learned": {m.label: evaluate_learned(sandbox, setting_problem(n, k, dist, weights, params, m.convention), m.code)
                            for m in mechs},
                "baselines_in_distribution": _rule_results(fit_rules(test), test),
                "baselines_ood": _rule_results(ood_rules, test),
                "nonsp": nonsp_cost(test.profiles("holdout").peaks, test.weights, k),
                "neural": "not trained in this experiment (Experiment 4 trains them per setting)",
            }
            per_dist[f"n={n} K={k} {'unweighted' if weights == 'none' else 'weights ' + weights}"] = entry
        out[dist] = per_dist
    return out


def larger_n_study(learned: list[Learned], params: Mapping[str, Any], sandbox: Sandbox) -> dict[str, Any]:
    """Per n: the unweighted learned mechanisms on their training distribution, the percentile
    rule refitted at that n (exact DP), the non-SP optimum and a dense SP audit of each learned one."""
    mechs = [m for m in learned if m.unweighted]
    out: dict[str, Any] = {}
    for n in sorted(set(params["larger_ns"])):
        entry: dict[str, Any] = {"learned": {}, "percentile": {}, "nonsp": {}, "dense_audit_max_regret": {},
                                 "dense_audit": {}, "neural": NEURAL_NOTE}
        for setting in sorted({(m.distribution, m.k) for m in mechs}):
            dist, k = setting
            problem = setting_problem(n, k, dist, "none", params)
            rule = fit_percentile_dp(problem.profiles("search").peaks, problem.weights, k)
            key = f"{dist} K={k}"
            entry["percentile"][key] = {**evaluate_rule(rule.fn, problem), "choice": list(rule.choice),
                                        "quantiles": [round(c / max(n - 1, 1), 4) for c in rule.choice]}
            entry["nonsp"][key] = nonsp_cost(problem.profiles("holdout").peaks, problem.weights, k)
        for m in mechs:
            problem = setting_problem(n, m.k, m.distribution, "none", params, m.convention)
            res = evaluate_learned(sandbox, problem, m.code)
            entry["learned"][m.label] = {**res, "distribution": m.distribution, "k": m.k, "trained_n": m.n}
            audit = _dense_audit(sandbox, problem, m, params) if res["applicable"] else None
            entry["dense_audit"][m.label] = audit
            entry["dense_audit_max_regret"][m.label] = audit.get("max_regret") if audit else None
        out[str(n)] = entry
    skipped = [m.label for m in learned if not m.unweighted]
    if skipped:
        out["skipped"] = {label: "learned with weights; the larger-n evaluation is unweighted (as in the paper)" for label in skipped}
    return out


def _dense_audit(sandbox: Sandbox, problem: ScaledFacilityProblem, mech: Learned, params: Mapping[str, Any]) -> dict[str, Any]:
    """Experiment 4's dense-grid audit on the first test profiles (every grid point as a misreport)."""
    peaks = problem.profiles("holdout").peaks[: params["audit_profiles"]]
    try:
        return audit_code(Evaluator(problem, sandbox), mech.code, peaks, problem.weights, problem.k,
                          params["audit_grid"], per_profile=mech.convention == "per_profile")
    except Exception as exc:  # noqa: BLE001 - report, do not crash
        return {"max_regret": None, "error": f"{type(exc).__name__}: {exc}"}


def scaling_rows(larger_n: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flat rows (n, series, social cost) of the larger-n results, for the scaling plot and tables."""
    rows = []
    for key, entry in larger_n.items():
        if not key.isdigit():
            continue
        for label, res in entry["learned"].items():
            rows.append({"n": int(key), "series": label, "cost": res.get("social_cost"), "applicable": res["applicable"]})
        for setting, res in entry["percentile"].items():
            rows.append({"n": int(key), "series": f"best percentile ({setting})", "cost": res.get("social_cost"), "applicable": True})
        for setting, cost in entry["nonsp"].items():
            rows.append({"n": int(key), "series": f"non-SP optimum ({setting})", "cost": cost, "applicable": True})
    return sorted(rows, key=lambda r: (r["series"], r["n"]))


def summarize(ood: Mapping[str, Any], larger_n: Mapping[str, Any]) -> dict[str, Any]:
    """Headline numbers: the worst OOD ratio of a learned mechanism (on a distribution it was not
    trained on) to the in-distribution percentile rule, the ratio to the refitted percentile rule at
    the largest n, the worst dense audit."""
    ratios = [res["social_cost"] / e["baselines_in_distribution"]["percentile"]["social_cost"]
              for dist, settings in ood.items() for e in settings.values() if dist != e.get("trained_on", "uniform")
              for res in e["learned"].values() if res["applicable"]]
    ns = [int(k) for k in larger_n if k.isdigit()]
    top = larger_n[str(max(ns))] if ns else {"learned": {}}
    at_top = [res["social_cost"] / top["percentile"][f"{res['distribution']} K={res['k']}"]["social_cost"]
              for res in top["learned"].values() if res["applicable"]]
    audits = [v for k in ns for v in larger_n[str(k)]["dense_audit_max_regret"].values() if v is not None]
    failures = sum(not res["applicable"] for k in ns for res in larger_n[str(k)]["learned"].values())
    return {
        "ood_worst_ratio": max(ratios) if ratios else None,
        "largest_n": max(ns) if ns else None,
        "largest_n_ratio_to_percentile": min(at_top) if at_top else None,
        "dense_audit_max_regret": max(audits) if audits else None,
        "larger_n_not_applicable": failures,
    }


def learned_keys(learned: list[Learned]) -> list[int]:
    """The facility counts the learned mechanisms use."""
    return sorted({m.k for m in learned})


def run_studies(learned: list[Learned], params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OOD and the larger-n studies of the learned mechanisms, in one sandbox sized for the
    run's largest evaluation. Returns (ood, larger_n)."""
    with open_sandbox(params, learned_keys(learned)) as sandbox:
        ood = ood_study(learned, params, sandbox)
        larger = larger_n_study(learned, params, sandbox)
    return ood, larger


def baselines(params: Mapping[str, Any]) -> dict[str, Any]:
    """``amd baselines``: the best percentile rule (exact DP, refitted per n) and the non-SP
    optimum on unweighted ``learn_distribution`` peaks, for each K learned and each n of the larger-n study."""
    out: dict[str, Any] = {}
    dist = learn_distribution(params)
    for k in params["ks"]:
        for n in params["larger_ns"]:
            train = make_profiles(dist, n, params["n_train"], params["n_misreports"], params["seed"], "train")
            test = make_profiles(dist, n, params["n_test"], params["n_misreports"], params["seed"], "test")
            w = np.ones(n)
            rule = fit_percentile_dp(train.peaks, w, k)
            out[f"{dist} n={n} K={k}"] = {
                "percentile_choice": list(rule.choice),
                "percentile_cost": float(social_costs(test.peaks, rule.fn(test.peaks, w, k), w).mean()),
                "nonsp_cost": nonsp_cost(test.peaks, w, k),
            }
    return out


__all__ = ["make_problem", "learn_distribution", "setting_problem", "learn_here", "learned_mechanisms", "open_sandbox", "run_studies", "baselines", "evaluate_learned", "evaluate_rule", "fit_rules", "ood_study",
           "larger_n_study", "scaling_rows", "summarize", "learned_keys"]
