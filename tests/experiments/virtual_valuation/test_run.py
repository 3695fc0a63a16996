"""Acceptance: the default offline run rediscovers Myerson's auction, and the final mechanism passes
the SP/IR audit (candidate code runs in the sandbox throughout); the run module's results and the
sweep table."""

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from amdlib.experiments.virtual_valuation import EXPERIMENT, run
from amdlib.pipeline.params import load_params

OPTIMUM = 0.2216193
RESERVE = (2 + math.sqrt(39)) / 35


@pytest.fixture(scope="module")
def default_run():
    params = load_params(EXPERIMENT, Path(__file__).parents[3] / "params/virtual_valuation/default.yaml",
                         ["compare_methods=[]"])
    problem = run.make_problem(params)
    return problem, params, run.searches(problem, params)


def test_default_offline_run_reaches_myerson(default_run):
    problem, params, searches = default_run
    found = run.analyse(problem, searches[params["method"]].best.code, audit_profiles=300, audit_grid=101)
    assert found["revenue"] >= 0.995 * OPTIMUM
    assert abs(found["reserve"] - RESERVE) <= 0.01
    assert found["audit"]["max_regret"] <= 1e-9
    assert found["audit"]["min_utility"] >= -1e-12


def test_results_and_sweep_table_of_the_run(default_run, tmp_path):
    problem, params, searches = default_run
    truth = run.baselines(params)
    found = run.analyse(problem, searches[params["method"]].best.code, audit_profiles=50, audit_grid=21)
    results = run.summary(params, truth, found, searches)
    assert results["best"]["revenue"] == found["revenue"] and results["optimum_revenue"] == truth["optimum_revenue"]
    assert results["evaluations_to_99pct"] <= params["max_evaluations"] + 1
    assert set(results["comparison"]) == {params["method"]}
    done = tmp_path / "virtual_valuation" / "r2"
    done.mkdir(parents=True)
    (done / "results.json").write_text(json.dumps(results))
    member = lambda rid, state: SimpleNamespace(run_id=rid, params=dict(params), state=state, error="")  # noqa: E731
    status = SimpleNamespace(members=[member("r1", "this run"), member("r2", "complete"), member("r3", "queued")],
                             missing=lambda: [member("r3", "queued")], describe=lambda m: "n_bidders=2")
    lines = run.sweep_table(status, tmp_path, results).splitlines()
    assert lines[0].startswith("run") and len(lines) == 5
    assert "pass" in lines[1] and lines[1].endswith("this run") and lines[2].endswith("complete")
    assert lines[3].split()[4:7] == ["-", "-", "-"] and lines[4] == "missing: r3 (n_bidders=2): queued"


def test_hooks_share_the_factory_and_plan_one_search_per_method():
    params = load_params(EXPERIMENT, None, ["distribution=uniform", "compare_methods=[random, funsearch]"])
    plans = EXPERIMENT.searches(params)
    assert [p.name for p in plans] == ["funsearch", "random"] and plans[1].overrides == {"method": "random"}
    assert plans[0].problem.describe() == run.make_problem(params).describe()


def test_baselines_hook_prints_ground_truth():
    params = load_params(EXPERIMENT, None, ["distribution=uniform", "n_bidders=2"])
    out = EXPERIMENT.baselines(params)
    assert out["optimum_revenue"] == pytest.approx(5 / 12, abs=1e-6)
    assert out["spa"]["revenue"] == pytest.approx(1 / 3, abs=1e-6)
    assert out["spa_reserve"]["reserve"] == pytest.approx(0.5, abs=1e-3)
