"""What the correlated-revenue notebook and the record's hooks call: the problem at any rho, the
baselines, the searches (with restarts), the fixed learned mechanism and its audit, RegretNet and
its distillation (NNA), the rho sweep, and results.json.

Everything problem-level (the law, the fixing step, the MILP optimum, the baselines, the network)
lives in :mod:`amdlib.problems.correlated`; heavy modules are imported when called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from amdlib.experiments.shared import curve_rows, fixed_program, search as run_search
from amdlib.problems.correlated.distribution import GridLaw
from amdlib.problems.correlated.problem import CorrelatedRevenueProblem


def make_problem(params: Mapping[str, Any], rho: float | None = None) -> CorrelatedRevenueProblem:
    """The revenue problem of the run's grid at its ``rho`` (or at another ``rho``)."""
    return CorrelatedRevenueProblem(int(params["grid_size"]), float(params["rho"] if rho is None else rho))


def baselines(params: Mapping[str, Any]) -> dict[str, Any]:
    """`amd baselines`: the MILP optimum and the analytic baselines at the run's rho."""
    from amdlib.problems.correlated.baselines import all_baselines

    return all_baselines(make_problem(params).law)


def regretnet_config(params: Mapping[str, Any]) -> Any:
    """The RegretNet settings of the run."""
    from amdlib.problems.correlated.regretnet import RegretNetConfig

    return RegretNetConfig(hidden=int(params["regretnet_hidden"]), steps=int(params["regretnet_steps"]),
                           lr=float(params["regretnet_lr"]), seed=int(params["seed"]))


def train_network(params: Mapping[str, Any], output_dir: Path | None = None, rho: float | None = None,
                  progress: Callable[..., Any] | None = None) -> Any:
    """Train (or reuse the run's cached) RegretNet; cached as ``regretnet_rho<rho>.pt`` in the run dir."""
    from amdlib.problems.correlated.regretnet import train_or_load

    law = make_problem(params, rho).law
    path = None if output_dir is None else Path(output_dir) / f"regretnet_rho{law.rho:g}.pt"
    return train_or_load(law, regretnet_config(params), path, progress)


def search(prob: Any, params: Mapping[str, Any], budget: int | None = None, progress: bool = True,
           restarts: int | None = None) -> Any:
    """Run the configured search on ``prob`` (``budget`` overrides max_evaluations).

    ``restarts`` independent searches (default ``params["restarts"]``; the engine's restarts loop,
    restart r with the search seed ``seed + 7919 r``) each get the full budget; the one returned has
    the best search score (the exact revenue, or the distillation fitness), ties to the earliest.
    Every restart's seed, best score and candidate count are in ``result.stats["restarts"]``.
    """
    overrides = {} if budget is None else {"max_evaluations": int(budget)}
    count = int(params.get("restarts", 1) if restarts is None else restarts)
    return run_search(prob, params, overrides, restarts=count, progress=progress)


def distill(params: Mapping[str, Any], network: Any, rho: float | None = None, progress: bool = True) -> Any:
    """NNA: evolve code whose fixed mechanism is closest (L2) to the network's tables."""
    from amdlib.problems.correlated.nna import DistillProblem

    law = make_problem(params, rho).law
    return search(DistillProblem(law.grid_size, law.rho, network.tables), params, params["nna_evaluations"], progress,
                  restarts=1)


def fixed_mechanism(prob: CorrelatedRevenueProblem, code: str) -> Any:
    """``code`` run in a sandbox on the problem's grid and fixed: its :class:`FixReport`."""
    return fixed_program(prob, code)[0]


def mechanism_summary(prob: CorrelatedRevenueProblem, report: Any) -> dict[str, Any]:
    """Revenue, fix figures, exhaustive audit and thresholds of a fixed mechanism."""
    from amdlib.problems.correlated.audit import verdict

    m = prob.metrics(report)
    checks = prob.audit(report.mechanism)
    return {
        "revenue": m["revenue"], "ratio": m["optimum_ratio"], "raw_revenue": m["raw_revenue"],
        "fix_cost": m["fix_cost"], "changed_mass": m["changed_mass"], "audit": checks, **verdict(checks),
        "symmetric": bool(np.array_equal(report.mechanism.t1, report.mechanism.t2)),
        "thresholds": report.mechanism.to_dict(),
    }


def distilled_summary(prob: CorrelatedRevenueProblem, nna_result: Any, nna_fixed: Any, network: Any) -> dict[str, Any]:
    """The distilled code's fixed mechanism (as :func:`mechanism_summary`), its L2 distance to the
    network's tables and the distillation's candidate count."""
    from amdlib.problems.correlated.nna import l2_distance, tables_of

    tables = tables_of(nna_fixed.mechanism, prob.law.values)
    return {"code": nna_result.best.code, **mechanism_summary(prob, nna_fixed),
            "l2_to_network": l2_distance(tables, network.tables, prob.law.pmf),
            "evaluations": len(nna_result.history)}


def rho_sweep(grid_size: int, rhos: Any) -> list[dict[str, float]]:
    """Optimum and analytic baselines at each rho (cheap: a MILP and a few exact sums each)."""
    from amdlib.problems.correlated.baselines import all_baselines

    rows = []
    for rho in rhos:
        b = all_baselines(GridLaw(int(grid_size), float(rho)))
        rows.append({"rho": float(rho), "optimum": b["optimum"]["revenue"],
                     "myerson_marginals": b["myerson_marginals"]["revenue"],
                     "spa_reserve": b["spa_reserve"]["revenue"], "greedy_ironed": b["greedy_ironed"]["revenue"],
                     "greedy_bound": b["greedy_bound"]["revenue"]})
    return rows


def sweep_rhos(params: Mapping[str, Any]) -> np.ndarray:
    """The rho values of the optimum/baseline sweep: ``sweep_points`` from 0 to 1."""
    return np.linspace(0.0, 1.0, params["sweep_points"])


def learned_point(params: Mapping[str, Any], rho: float, output_dir: Path | None = None) -> dict[str, float]:
    """Search, RegretNet and NNA at one extra rho (the sweep's learned markers; one search, no restarts)."""
    best = search(make_problem(params, rho), params, progress=False, restarts=1).best
    net = train_network(params, output_dir, rho)
    nna = distill(params, net, rho, progress=False).best
    return {"rho": float(rho), "learned": _metric(best, "revenue"), "regretnet": net.revenue,
            "regretnet_regret": net.audit["expected_regret"], "nna": _metric(nna, "revenue")}


def learned_sweep(params: Mapping[str, Any], learned: Mapping[str, Any], network: Any, nna: Mapping[str, Any],
                  output_dir: Path | None = None) -> list[dict[str, float]]:
    """The learned markers of the sweep by rho: the run's own rho (from its results so far), then a
    search, network and distillation at each other rho of ``sweep_learned``."""
    rho = make_problem(params).law.rho
    rows = [{"rho": rho, "learned": learned["revenue"], "regretnet": network.revenue,
             "regretnet_regret": network.audit["expected_regret"], "nna": nna["revenue"]}]
    for other in params["sweep_learned"]:
        if other != rho:
            rows.append(learned_point(params, other, output_dir))
    return sorted(rows, key=lambda r: r["rho"])


def _metric(program: Any, key: str) -> float:
    return float(program.evaluation.metrics.get(key, float("nan"))) if program.valid else float("nan")


def summary(params: Mapping[str, Any], prob: CorrelatedRevenueProblem, result: Any, learned: Mapping[str, Any],
            base: Mapping[str, Any], network: Any, nna: Mapping[str, Any], sweep: list[dict[str, float]],
            learned_rows: list[dict[str, float]]) -> dict[str, Any]:
    """results.json: every number computed by this run (``nna``: :func:`distilled_summary`)."""
    return {
        "setting": {**prob.law.describe(), "bidders": 2},
        "optimum_revenue": base["optimum"]["revenue"],
        "best": {"code": result.best.code, **{k: v for k, v in learned.items() if k != "audit"}},
        "audit": learned["audit"],
        "evaluations": len(result.history),
        "restarts": result.stats.get("restarts", []),
        "curve": curve_rows(result),
        "baselines": {
            "optimum": base["optimum"],
            "myerson_marginals": base["myerson_marginals"],
            "spa_reserve": base["spa_reserve"],
            "greedy_ironed": base["greedy_ironed"],
            "greedy_bound": base["greedy_bound"],
            "regretnet": network.summary(),
            "nna": dict(nna),
        },
        "sweep": sweep,
        "sweep_learned": learned_rows,
    }
