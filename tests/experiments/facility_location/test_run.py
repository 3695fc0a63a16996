"""A facility-location run's work: the restarts through the engine, the Table-1 outcome, the
family table, and the experiment's hooks (all through one make_problem)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from amdlib.core.engine import restart_seed
from amdlib.core.experiment import defaults
from amdlib.experiments.facility_location import EXPERIMENT
from amdlib.experiments.facility_location import run as fr
from amdlib.pipeline.params import validate
from amdlib.problems.facility.baselines import nonsp_rule
from amdlib.problems.facility.evaluation import evaluate_mechanism

TINY = {"n_train": 100, "n_test": 100, "max_evaluations": 8, "pop_size": 2, "workers": 1, "audit_profiles": 10,
        "audit_grid": 21, "fit_budget": 4}


def test_percentile_outcome():
    assert fr.percentile_outcome(True, 0.1, 0.0, 0.0, 0.2) == "better"
    assert fr.percentile_outcome(True, 0.2, 0.0, 0.0, 0.2) == "tie"
    assert fr.percentile_outcome(True, 0.3, 0.0, 0.0, 0.2) == "worse"
    assert fr.percentile_outcome(True, 0.1, 0.01, 0.005, 0.2) == "regret > epsilon"
    assert fr.percentile_outcome(True, 0.1, 0.005, 0.005, 0.2) == "better"
    assert fr.percentile_outcome(False, float("nan"), float("nan"), 0.0, 0.2) == "invalid"


def test_table1_outcomes_on_a_tiny_grid():
    # K = 1 with weights (5, 1, 1, 1, 1): the optimum is the weighted median (agent 0's peak), and the
    # best percentile rule (the median) is 30% worse; the search must find the optimum itself.
    params = validate(EXPERIMENT, TINY, "test")
    out = fr.table1_outcomes(params, grid=((5, 1, "uniform"),))
    (row,) = out["rows"]
    problem = fr.make_problem(params, n_agents=5, n_facilities=1, distribution="uniform", weights="fixed")
    optimum = evaluate_mechanism(nonsp_rule(), problem.profiles("test"), problem.weights, 1).metrics["social_cost"]
    assert row["learned"] == pytest.approx(optimum, abs=1e-12) and row["learned"] < 0.8 * row["percentile"]
    assert row["outcome"] == "better" and row["sp_on_grid"] and row["dense_audit_max_regret"] == 0.0
    assert out["summary"] == {**out["summary"], "settings": 1, "strictly_better": 1}


def test_restarts_run_through_the_engine_and_the_best_on_training_is_kept():
    params = validate(EXPERIMENT, {**TINY, "restarts": 2, "seed": 3, "seed_rule": "constant"}, "test")
    chosen, summary = fr.search(fr.make_problem(params), params)
    assert [s["search_seed"] for s in summary] == [restart_seed(3, 0), restart_seed(3, 1)] == [3, 3 + 7919]
    assert sum(bool(s.get("chosen")) for s in summary) == 1
    best = min(summary, key=lambda s: (s["train_fitness"], s["restart"]))
    assert best.get("chosen") and chosen.best.score == -best["train_fitness"]
    assert list(summary[0])[:7] == ["restart", "search_seed", "train_fitness", "train_social_cost", "best_operator",
                                    "proposals", "fit_evaluations"]


def test_family_table_describes_every_member():
    params = validate(EXPERIMENT, {**TINY, "n_agents": 10, "n_facilities": 3}, "test")
    rows = fr.family_table(fr.make_problem(params), params)
    assert [r["family"] for r in rows][-2:] == ["anchored", "pair_anchored"]
    assert all(r["spec"] and all(isinstance(s, str) for s in r["spec"]) for r in rows)
    assert rows[0]["spec"][0].startswith("Quantile(g=0.0") and rows[-1]["spec"][0].startswith("PairAnchored(a=0, b=1")
    assert all(r["dense_audit_max_regret"] == 0.0 for r in rows)


def test_hooks_share_one_make_problem():
    params = validate(EXPERIMENT, {"restarts": 2, "table1_grid": True, "n_facilities": 3}, "test")
    problem = EXPERIMENT.make_problem(params)
    assert problem.describe() == fr.make_problem(params).describe() and problem.k == 3
    plans = EXPERIMENT.searches(params)
    assert [p.name for p in plans] == ["restart 0", "restart 1", "Table 1 grid (32 settings)"] and plans[-1].times == 64
    base = EXPERIMENT.baselines(validate(EXPERIMENT, {"n_train": 50, "n_test": 50}, "test"))
    assert set(base["baselines"]) == {"percentile", "dictatorial", "constant", "nonsp"}
    assert EXPERIMENT.check({**defaults(EXPERIMENT), "epsilon_source": "regretnet", "epsilon": 0.1})


def test_importing_the_experiment_is_cheap():
    heavy = ("torch", "scipy", "numpy", "matplotlib", "amdlib.core.engine", "amdlib.core.sandbox")
    code = ("import sys, amdlib.experiments.facility_location, amdlib.experiments.generalization; "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_matched_regret_reads_the_printed_regret_of_a_table1_cell_and_refuses_any_other_cell():
    cell = {"n_agents": 5, "n_facilities": 2, "distribution": "normal", "weights": "fixed"}
    llm = fr.resolve_epsilon(validate(EXPERIMENT, {**cell, "epsilon_source": "paper-llmmech"}, "test"))
    assert llm["source"] == "paper-llmmech" and llm["epsilon"] == 0.00404 and "Table 1 prints" in llm["measured_on"]
    ten = {**cell, "n_agents": 10, "epsilon_source": "paper-llmmech-e"}
    assert fr.resolve_epsilon(validate(EXPERIMENT, ten, "test"))["epsilon"] == 0.00063  # LLMMech's is 0.00049
    exact = fr.resolve_epsilon(validate(EXPERIMENT, {**cell, "n_facilities": 1, "epsilon_source": "paper-llmmech"}, "test"))
    assert exact["epsilon"] == 0.0 and "prints no regret (so 0)" in exact["measured_on"]  # an SP cell prints none
    for bad in ({"weights": "none"}, {"n_agents": 7}, {"n_facilities": 5}):
        message = EXPERIMENT.check({**defaults(EXPERIMENT), **cell, **bad, "epsilon_source": "paper-llmmech"})
        assert message and "only in its cells" in message and "use epsilon_source value or regretnet" in message
    assert "sets epsilon" in EXPERIMENT.check({**defaults(EXPERIMENT), **cell, "epsilon_source": "paper-llmmech-e",
                                               "epsilon": 0.001})
