"""Acceptance: the default offline run rediscovers Myerson's auction, and the final
mechanism passes the SP/IR audit (candidate code runs in the sandbox throughout)."""

import math
from pathlib import Path

import pytest

from amdlib.core.engine import SearchConfig, run_search
from amdlib.experiments.virtual_valuation import EXPERIMENT
from amdlib.pipeline.params import load_params
from amdlib.problems.virtual_valuation import study

OPTIMUM = 0.2216193
RESERVE = (2 + math.sqrt(39)) / 35


@pytest.fixture(scope="module")
def default_run():
    params = load_params(EXPERIMENT, Path(__file__).parents[3] / "params/virtual_valuation/default.yaml")
    problem = study.make_problem(params)
    result = run_search(problem, SearchConfig.from_params(params), progress=False)
    return problem, params, result


def test_default_offline_run_reaches_myerson(default_run):
    problem, params, result = default_run
    found = study.analyse(problem, result.best.code, audit_profiles=300, audit_grid=101)
    assert found["revenue"] >= 0.995 * OPTIMUM
    assert abs(found["reserve"] - RESERVE) <= 0.01
    assert found["audit"]["max_regret"] <= 1e-9
    assert found["audit"]["min_utility"] >= -1e-12


def test_baselines_hook_prints_ground_truth():
    params = load_params(EXPERIMENT, None, ["distribution=uniform", "n_bidders=2"])
    out = study.baselines(params)
    assert out["optimum_revenue"] == pytest.approx(5 / 12, abs=1e-6)
    assert out["spa"]["revenue"] == pytest.approx(1 / 3, abs=1e-6)
    assert out["spa_reserve"]["reserve"] == pytest.approx(0.5, abs=1e-3)
