"""The run module: baselines, the rho sweep, restarts through the engine's loop, and a small
search, fix, audit, RegretNet and distillation end to end."""

import math

import pytest

from amdlib.core.experiment import defaults
from amdlib.experiments.correlated_revenue import EXPERIMENT, run

SMALL = {**defaults(EXPERIMENT), "grid_size": 11, "pop_size": 4, "islands": 2, "workers": 1}


def test_baselines_hook_gives_the_ground_truths():
    b = EXPERIMENT.baselines({**defaults(EXPERIMENT), "rho": 0.5})
    assert b["optimum"]["revenue"] == pytest.approx(0.455159, abs=1e-5)
    # flags are the audit's: the greedy ironed rule is a mechanism (SP, IR, one item), the bound is not one
    g = b["greedy_ironed"]
    assert g["revenue"] == pytest.approx(0.448810, abs=1e-6)
    assert (g["sp"], g["ir"], g["feasible"], g["monotone_before_fix"]) == (True, True, True, True)
    assert g["audit"]["max_regret"] == 0.0 and g["fix_changed_mass"] == 0.0
    assert "feasible" not in b["greedy_bound"] and b["greedy_bound"]["mechanism"] is False
    assert {"myerson_marginals", "spa_reserve", "greedy_ironed", "greedy_bound", "optimum", "setting"} <= set(b)


def test_rho_sweep_is_monotone_in_the_optimum():
    rows = run.rho_sweep(11, run.sweep_rhos({"sweep_points": 3}))
    opts = [r["optimum"] for r in rows]
    assert [r["rho"] for r in rows] == [0.0, 0.5, 1.0]
    assert opts == sorted(opts) and opts[-1] == pytest.approx(0.5)


def test_restarts_report_the_best_search_of_independent_seeds():
    params = {**SMALL, "max_evaluations": 8}
    prob = run.make_problem(params)
    alone = [run.search(prob, {**params, "seed": 7919 * r}, progress=False, restarts=1).best.score for r in range(3)]
    best = run.search(prob, {**params, "restarts": 3}, progress=False)
    assert [r["seed"] for r in best.stats["restarts"]] == [0, 7919, 15838]
    assert [r["score"] for r in best.stats["restarts"]] == pytest.approx(alone)
    assert [r["evaluations"] for r in best.stats["restarts"]] == [len(best.history)] * 3
    assert best.best.score == pytest.approx(max(alone))


def test_small_search_and_distillation_end_to_end(tmp_path):
    params = {**SMALL, "max_evaluations": 16, "regretnet_steps": 20, "regretnet_hidden": 8, "nna_evaluations": 8,
              "sweep_learned": [0.25]}
    prob = run.make_problem(params)
    result = run.search(prob, params, progress=False)
    assert len(result.history) >= 16 and result.best.valid
    fixed = run.fixed_mechanism(prob, result.best.code)
    learned = run.mechanism_summary(prob, fixed)
    assert learned["revenue"] == pytest.approx(result.best.score)
    assert learned["audit"]["max_regret"] == 0.0 and learned["audit"]["min_utility"] >= 0.0
    assert learned["feasible"] and learned["sp"] and learned["ir"]
    net = run.train_network(params, tmp_path)
    assert (tmp_path / "regretnet_rho0.5.pt").is_file()
    nna_result = run.distill(params, net, progress=False)
    assert nna_result.best.valid and nna_result.best.score <= 0
    assert math.isfinite(nna_result.best.evaluation.metrics["revenue"])
    nna = run.distilled_summary(prob, nna_result, run.fixed_mechanism(prob, nna_result.best.code), network=net)
    assert nna["revenue"] == pytest.approx(nna_result.best.evaluation.metrics["revenue"]) and nna["l2_to_network"] >= 0
    points = run.learned_sweep(params, learned, net, nna, tmp_path)
    assert [p["rho"] for p in points] == [0.25, 0.5] and (tmp_path / "regretnet_rho0.25.pt").is_file()
    base = run.baselines(params)
    results = run.summary(params, prob, result, learned, base, net, nna, run.rho_sweep(11, [0.5]), points)
    assert results["restarts"] == result.stats["restarts"] and results["baselines"]["nna"] == nna
    assert results["best"]["revenue"] == learned["revenue"] and results["curve"][-1][1] == result.best.score
