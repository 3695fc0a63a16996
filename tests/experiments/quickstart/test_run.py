"""The quickstart's run module: one problem factory for the notebook and the hooks, its reference
points, and the summary of a small search."""

import pytest

from amdlib.core.experiment import defaults
from amdlib.experiments.quickstart import EXPERIMENT, run
from amdlib.experiments.shared import search

PARAMS = {**defaults(EXPERIMENT), "max_evaluations": 6, "pop_size": 2, "islands": 1}


def test_the_hooks_and_the_notebook_share_one_factory():
    params = {**PARAMS, "target": "smooth", "n_points": 17, "seed": 3}
    for toy in (run.make_problem(params), EXPERIMENT.make_problem(params), EXPERIMENT.searches(params)[0].problem):
        assert toy.describe() == run.make_problem(params).describe()
        assert len(toy.payload("search")["x"]) == 17
    assert EXPERIMENT.baselines(params) == run.baselines(params)


def test_baselines_bracket_the_search():
    refs = run.baselines(PARAMS)
    assert refs["seed_program"]["score"] < refs["best_line"]["score"] <= refs["optimum"]["score"] == 0.0
    assert refs["best_line"]["score"] == pytest.approx(0.0, abs=1e-12)  # the linear target is a line


def test_summary_and_predictions_of_a_small_search():
    toy = run.make_problem(PARAMS)
    result = search(toy, PARAMS, progress=False)
    out = run.summary(result, toy)
    assert out["evaluations"] == len(result.history) and out["best"]["code"] == result.best.code
    assert out["curve"][-1][1] == out["best"]["score"]
    predicted = run.predictions(toy, result.best.code)
    x = toy.payload("search")["x"]
    assert predicted.shape == x.shape
    assert -float(((predicted - toy.target_values(x)) ** 2).mean()) == pytest.approx(result.best.score)
