"""The experiment module: declared params, hooks, and a small sandboxed search end to end."""

import math

import pytest

from amdlib.errors import UserError
from amdlib.experiments import correlated_revenue as exp
from amdlib.pipeline.params import validate
from amdlib.pipeline.schema import defaults


def test_params_are_validated_by_their_declared_ranges():
    p = validate(exp.EXPERIMENT, {"rho": 0.25}, "test")
    assert p["rho"] == 0.25 and p["grid_size"] == 21
    for bad in ({"rho": 1.5}, {"grid_size": 2}, {"sweep_learned": [0.5, 2.0]}, {"regretnet_steps": 0}):
        with pytest.raises(UserError):
            validate(exp.EXPERIMENT, bad, "test")


def test_baselines_hook_gives_the_ground_truths():
    b = exp.baselines({**defaults(exp.EXPERIMENT), "rho": 0.5})
    assert b["optimum"]["revenue"] == pytest.approx(0.455159, abs=1e-5)
    # flags are the audit's: the greedy ironed rule is a mechanism (SP, IR, one item), the bound is not one
    g = b["greedy_ironed"]
    assert g["revenue"] == pytest.approx(0.448810, abs=1e-6)
    assert (g["sp"], g["ir"], g["feasible"], g["monotone_before_fix"]) == (True, True, True, True)
    assert g["audit"]["max_regret"] == 0.0 and g["fix_changed_mass"] == 0.0
    assert "feasible" not in b["greedy_bound"] and b["greedy_bound"]["mechanism"] is False
    assert {"myerson_marginals", "spa_reserve", "greedy_ironed", "greedy_bound", "optimum", "setting"} <= set(b)


def test_paper_rows_show_the_reported_figure_beside_ours():
    rows = exp.paper_tables({"best": {"revenue": 0.45}}, defaults(exp.EXPERIMENT))
    assert rows and rows[0]["paper"] == pytest.approx(0.3857) and rows[0]["ours"] == 0.45
    assert {"table", "setting", "metric", "paper", "ours"} <= set(rows[0])


def test_rho_sweep_is_monotone_in_the_optimum():
    rows = exp.rho_sweep(11, [0.0, 0.5, 1.0])
    opts = [r["optimum"] for r in rows]
    assert opts == sorted(opts) and opts[-1] == pytest.approx(0.5)


def test_show_code_drops_the_docstring():
    code = 'def priority(bid):\n    """Long text."""\n    return bid\n'
    assert exp.show_code(code) == "def priority(bid):\n    return bid"


def test_restarts_report_the_best_search_of_independent_seeds():
    params = {**defaults(exp.EXPERIMENT), "grid_size": 11, "max_evaluations": 8, "pop_size": 4, "islands": 2,
              "workers": 1}
    prob = exp.problem(params)
    alone = [exp.search(prob, {**params, "seed": 7919 * r}, progress=False, restarts=1).best.score for r in range(3)]
    best = exp.search(prob, {**params, "restarts": 3}, progress=False)
    assert [r["seed"] for r in best.stats["restarts"]] == [0, 7919, 15838]
    assert [r["score"] for r in best.stats["restarts"]] == pytest.approx(alone)
    assert best.best.score == pytest.approx(max(alone))


def test_small_search_and_distillation_end_to_end(tmp_path):
    params = {**defaults(exp.EXPERIMENT), "grid_size": 11, "max_evaluations": 16, "pop_size": 4, "islands": 2,
              "workers": 1, "regretnet_steps": 20, "regretnet_hidden": 8, "nna_evaluations": 8}
    prob = exp.problem(params)
    result = exp.search(prob, params, progress=False)
    assert len(result.history) >= 16 and result.best.valid
    fixed = exp.fixed_mechanism(prob, result.best.code)
    learned = exp.mechanism_summary(prob, fixed)
    assert learned["revenue"] == pytest.approx(result.best.score)
    assert learned["audit"]["max_regret"] == 0.0 and learned["audit"]["min_utility"] >= 0.0
    assert learned["feasible"] and learned["sp"] and learned["ir"]
    net = exp.train_network(params, tmp_path)
    assert (tmp_path / "regretnet_rho0.5.pt").is_file()
    nna = exp.distill(params, net, progress=False)
    assert nna.best.valid and nna.best.score <= 0 and math.isfinite(nna.best.evaluation.metrics["revenue"])
