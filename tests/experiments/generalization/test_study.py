"""The OOD and larger-n studies on tiny settings, with code run in a real sandbox."""

from __future__ import annotations

import pytest

from amdlib.core.experiment import defaults
from amdlib.experiments.generalization import EXPERIMENT, notebook, study
from amdlib.experiments.generalization.sources import Learned
from amdlib.pipeline.params import validate
from amdlib.problems.facility.problem import FacilityProblem
from amdlib.problems.generalization.problem import ScaledFacilityProblem

QUARTILES = """import numpy as np

def mechanism(peaks, weights, K):
    return np.sort(peaks, axis=1)[:, [1, 3]]
"""
FIVE_ONLY = """import numpy as np

def mechanism(peaks, weights, K):
    if peaks.shape[1] != 5:
        raise ValueError("this mechanism only knows five agents")
    return np.sort(peaks, axis=1)[:, [1, 3]]
"""
MEDIAN_SHIFT = """import numpy as np

def mechanism(peaks, weights, K):
    s = np.sort(peaks, axis=1)
    return np.stack([s[:, 0], np.full(len(s), 0.5) + 0.1 * s[:, -1]], axis=1)
"""


@pytest.fixture(scope="module")
def params():
    return {**defaults(EXPERIMENT), "n_train": 1000, "n_test": 60, "ood_distributions": ["normal"], "larger_ns": [5, 12],
            "audit_profiles": 2, "audit_grid": 11, "workers": 1, "ks": [2]}


def _learned(label, code):
    return Learned(label, code, 5, 2, "uniform", "none", "vectorized", "test")


def test_ood_and_larger_n(params):
    mechs = [_learned("quartiles", QUARTILES), _learned("five only", FIVE_ONLY), _learned("shifted", MEDIAN_SHIFT)]
    with study.open_sandbox(params, [2]) as sb:
        ood = study.ood_study(mechs, params, sb)
        larger = study.larger_n_study(mechs, params, sb)
    e = ood["normal"]["n=5 K=2 unweighted"]
    fitted = e["baselines_ood"]["percentile"]
    assert fitted["choice"] == [1.0, 3.0]  # on uniform peaks the best pair is order statistics (2, 4)
    assert e["learned"]["quartiles"]["social_cost"] == pytest.approx(fitted["social_cost"], abs=1e-12)
    assert e["nonsp"] < e["baselines_in_distribution"]["percentile"]["social_cost"]
    assert e["learned"]["shifted"]["max_regret"] > 0  # the top agent pulls the second facility
    # larger n: the five-agent mechanism is reported, not crashed on; the others run and are audited
    big = larger["12"]
    assert big["learned"]["five only"]["applicable"] is False
    assert "five agents" in big["learned"]["five only"]["reason"]
    assert big["dense_audit_max_regret"]["five only"] is None
    assert big["learned"]["quartiles"]["applicable"] and big["dense_audit_max_regret"]["quartiles"] == 0.0
    assert big["dense_audit_max_regret"]["shifted"] > 0
    assert big["percentile"]["uniform K=2"]["max_regret"] == 0.0
    assert big["nonsp"]["uniform K=2"] < big["percentile"]["uniform K=2"]["social_cost"]
    assert larger["5"]["learned"]["five only"]["applicable"] is True
    summary = study.summarize(ood, larger)
    # a mechanism scored on the peaks it was learned on is in distribution, not OOD
    on_normal = {dist: {key: {**e, "trained_on": "normal"} for key, e in per.items()} for dist, per in ood.items()}
    ratio = e["learned"]["shifted"]["social_cost"] / e["baselines_in_distribution"]["percentile"]["social_cost"]
    assert summary["ood_worst_ratio"] >= ratio
    uniform = ood["uniform"]["n=5 K=2 unweighted"]
    assert study.summarize(on_normal, larger)["ood_worst_ratio"] == pytest.approx(max(
        r["social_cost"] / uniform["baselines_in_distribution"]["percentile"]["social_cost"]
        for r in uniform["learned"].values() if r["applicable"]))
    assert summary["largest_n"] == 12 and summary["larger_n_not_applicable"] == 1
    rows = EXPERIMENT.paper_rows({"ood": ood, "larger_n": larger}, params)
    assert {r["table"] for r in rows} == {"S12"}  # n = 12 has no paper table; n = 5 unweighted is S12
    per = [r for r in rows if r["metric"] == "Per. (OOD)"]
    assert per and per[0]["paper"] == pytest.approx(0.04343) and per[0]["ours"] == fitted["social_cost"]
    assert "n/a" not in notebook.ood_text(ood).splitlines()[1] and "not applicable: ValueError" in notebook.larger_n_text(larger)
    assert notebook.summary_text(summary).splitlines()[1].split() == ["largest_n", "12"]


def test_one_problem_factory_for_learning_and_the_hooks():
    params = validate(EXPERIMENT, {"ks": [3, 2], "weightings": ["fixed", "none"], "seed_rule": "scale_free"}, "test")
    problem = EXPERIMENT.make_problem(params)
    assert type(problem) is FacilityProblem and (problem.n, problem.k, problem.weights_spec) == (5, 3, "fixed")
    assert problem.seed_rule == "scale_free" and problem.distribution == "uniform" and problem.epsilon == 0.0
    plans = EXPERIMENT.searches(params)
    assert [p.name for p in plans] == ["K=3 weights=fixed", "K=3 weights=none", "K=2 weights=fixed", "K=2 weights=none"]
    assert all(p.problem.describe() == study.make_problem(params, p.problem.k, p.problem.weights_spec).describe() for p in plans)
    assert EXPERIMENT.searches({**params, "source_runs": ["abc"]}) == []
    beta = validate(EXPERIMENT, {"learn_distribution": "beta1", "weightings": ["none"]}, "test")
    assert EXPERIMENT.make_problem(beta).distribution == "beta1"
    assert EXPERIMENT.searches(beta)[0].problem.distribution == "beta1"
    evaluated = study.setting_problem(25, 2, "beta1", "none", params)
    assert isinstance(evaluated, ScaledFacilityProblem) and evaluated.timeout_s == params["timeout_s"]


def test_baselines_hook(params):
    out = EXPERIMENT.baselines({**params, "ks": [2], "larger_ns": [5, 12], "n_train": 200, "n_test": 200})
    assert list(out) == ["uniform n=5 K=2", "uniform n=12 K=2"]
    assert out["uniform n=5 K=2"]["percentile_choice"] == [1, 3]
    assert out["uniform n=12 K=2"]["nonsp_cost"] < out["uniform n=12 K=2"]["percentile_cost"]
