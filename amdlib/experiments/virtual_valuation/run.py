"""What the virtual-valuation notebook and the record's hooks call: the problem, the exact
baselines, the searches, the analysis of the learned program, results.json, and the cross-run
table of a sweep."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence

import numpy as np

from amdlib.experiments.shared import run_once, search
from amdlib.problems.virtual_valuation.auction import audit
from amdlib.problems.virtual_valuation.distributions import parse_distribution
from amdlib.problems.virtual_valuation.myerson import best_reserve, myerson, second_price_revenue
from amdlib.problems.virtual_valuation.problem import VirtualValuationProblem


def make_problem(params: Mapping[str, Any]) -> VirtualValuationProblem:
    """The problem instance a run's params describe."""
    return VirtualValuationProblem(
        distribution=params["distribution"],
        n_bidders=params["n_bidders"],
        n_samples=params["n_samples"],
        holdout_samples=params["holdout_samples"],
        grid_size=params["grid_size"],
        seed=params["seed"],
        sampling=params["sampling"],
    )


def baselines(params: Mapping[str, Any]) -> dict[str, Any]:
    """Myerson's optimum (ironed where needed) and second-price auctions, computed exactly."""
    dist = parse_distribution(params["distribution"])
    n = int(params["n_bidders"])
    opt = myerson(dist, n)
    reserve, spa_reserve = best_reserve(dist, n)
    return {
        "setting": {"distribution": dist.name, "n_bidders": n},
        "optimum_revenue": opt.revenue,
        "myerson_reserve": opt.reserve,
        "ironing_needed": opt.ironed,
        "spa": {"revenue": second_price_revenue(dist, n, 0.0)},
        "spa_reserve": {"revenue": spa_reserve, "reserve": reserve},
    }


def other_methods(params: Mapping[str, Any]) -> list[str]:
    """The methods of ``compare_methods`` other than the run's own."""
    return [m for m in params.get("compare_methods", []) if m != params["method"]]


def searches(problem: VirtualValuationProblem, params: Mapping[str, Any]) -> dict[str, Any]:
    """The run's search, then one search with each other method of ``compare_methods`` (same
    budget, same proposer), by method."""
    found = {params["method"]: search(problem, params)}
    for method in other_methods(params):
        found[method] = search(problem, params, {"method": method})
    return found


def analyse(problem: VirtualValuationProblem, code: str, audit_profiles: int, audit_grid: int) -> dict[str, Any]:
    """Re-score a learned program on the held-out sample and audit SP/IR.

    The candidate runs in the sandbox (it is untrusted); everything after its
    tabulated priority is computed here.
    """
    outputs = run_once(problem, code, "holdout")
    auction = problem.auction(outputs)
    held = problem.score(outputs, "holdout")
    values = problem.samples("holdout")[:audit_profiles]
    checks = audit(auction, values, np.linspace(0.0, 1.0, audit_grid))
    return {
        "revenue": held.metrics["revenue"],
        "revenue_se": held.metrics["revenue_se"],
        "reserve": held.metrics["reserve"],
        "fix_cost": held.metrics["fix_cost"],
        "fix_changed_fraction": held.metrics["fix_changed_fraction"],
        "audit": checks,
        "raw_priority": np.asarray(outputs["scores"], dtype=float),
        "priority": auction.priority,
    }


def evaluations_to_reach(curve: list[tuple[int, float]], level: float) -> int | None:
    """First evaluation count at which the best search score reaches ``level``."""
    for count, best in curve:
        if best >= level:
            return int(count)
    return None


def summary(params: Mapping[str, Any], truth: Mapping[str, Any], found: Mapping[str, Any],
            runs: Mapping[str, Any]) -> dict[str, Any]:
    """results.json: every number computed by this run (``runs``: the searches by method)."""
    result = runs[params["method"]]
    best = result.best
    opt = truth["optimum_revenue"]
    return {
        "setting": {**truth["setting"], "seed": params["seed"], "method": params["method"],
                    "proposer": params["proposer"]},
        "optimum_revenue": opt,
        "baselines": {"spa": truth["spa"]["revenue"], "spa_reserve": truth["spa_reserve"]["revenue"],
                      "spa_reserve_price": truth["spa_reserve"]["reserve"], "myerson_reserve": truth["myerson_reserve"]},
        "best": {"code": best.code, "thought": best.thought, "revenue": found["revenue"],
                 "revenue_se": found["revenue_se"], "reserve": found["reserve"], "search_revenue": best.score},
        "fix_cost": found["fix_cost"],
        "audit": found["audit"],
        "evaluations_to_99pct": evaluations_to_reach(result.curve(), 0.99 * opt),
        "comparison": {label: res.best.score for label, res in runs.items()},
    }


def sweep_row(results: Mapping[str, Any]) -> dict[str, Any]:
    """One run's line of the sweep table, from its results.json."""
    return {
        "distribution": results["setting"]["distribution"],
        "n_bidders": results["setting"]["n_bidders"],
        "seed": results["setting"].get("seed"),
        "ratio": results["best"]["revenue"] / results["optimum_revenue"],
        "reserve_error": abs(results["best"]["reserve"] - results["baselines"]["myerson_reserve"]),
        "audit_ok": results["audit"]["max_regret"] <= 1e-9 and results["audit"]["min_utility"] >= -1e-9,
    }


def sweep_summary(outputs_root: str | Path) -> list[dict[str, Any]]:
    """One row per completed run of this experiment under ``outputs_root``."""
    rows = []
    for path in sorted(Path(outputs_root, "virtual_valuation").glob("*/results.json")):
        rows.append({"run": path.parent.name, **sweep_row(json.loads(path.read_text()))})
    return rows


class SweepMember(Protocol):
    """A run of a sweep as the pipeline's sweep status lists it."""

    run_id: str
    params: dict[str, Any]
    state: str
    error: str


class SweepView(Protocol):
    """What :func:`sweep_table` reads of the pipeline's sweep status."""

    members: list[Any]

    def missing(self) -> Sequence[Any]: ...

    def describe(self, member: Any) -> str: ...


def sweep_table(status: SweepView, outputs_root: str | Path, results: Mapping[str, Any]) -> str:
    """Every run of the sweep this run belongs to: distribution, bidders, seed, share of the
    optimum, reserve error and audit verdict of the complete runs (this one from ``results``);
    the others with their state."""
    done = {r["run"]: r for r in sweep_summary(outputs_root)}
    here = sweep_row(results)
    lines = []
    if status.members:
        lines.append(f"{'run':12s} {'distribution':14s} {'n':>3s} {'seed':>5s} {'of optimum':>11s} "
                     f"{'reserve err':>12s} {'SP/IR audit':>12s}  state")
    for m in status.members:
        r = here if m.state == "this run" else done.get(m.run_id) if m.state == "complete" else None
        if r is None:
            lines.append(f"{m.run_id:12s} {m.params['distribution']:14s} {m.params['n_bidders']:3d} "
                         f"{m.params['seed']:5d} {'-':>11s} {'-':>12s} {'-':>12s}  {m.state}")
        else:
            lines.append(f"{m.run_id:12s} {r['distribution']:14s} {r['n_bidders']:3d} {str(r['seed']):>5s} "
                         f"{r['ratio']:11.2%} {r['reserve_error']:12.4f} {'pass' if r['audit_ok'] else 'FAIL':>12s}"
                         f"  {m.state}")
    for m in status.missing():
        lines.append(f"missing: {m.run_id} ({status.describe(m)}): {m.state}{': ' + m.error if m.error else ''}")
    return "\n".join(lines)
