"""Paired verdicts on fresh profiles, with the learned code run in the real sandbox."""

from __future__ import annotations

import numpy as np
import pytest

from amdlib.core.evaluator import Evaluator
from amdlib.core.sandbox import Sandbox
from amdlib.problems.facility.baselines import fit_percentile, percentile_rule
from amdlib.problems.facility.problem import FacilityProblem, _source, VECTOR_DOC
from amdlib.problems.facility.sp.quantile import Composition, Quantile
from amdlib.problems.facility.verdicts import code_locations, paired, paired_verdicts


def test_paired_statistics():
    rng = np.random.default_rng(0)
    a = rng.uniform(size=10_000)
    same = paired(a, a)
    assert same["verdict"] == "tie" and same["paired_se"] == 0.0 and same["identical_share"] == 1.0
    better = paired(a - 0.01, a + rng.normal(0, 0.05, a.size))
    assert better["verdict"] == "better" and better["mean_difference"] == pytest.approx(-0.01, abs=0.002)
    assert better["paired_se"] == pytest.approx(0.05 / 100, rel=0.05)
    noisy = paired(a + rng.normal(0, 0.05, a.size), a + rng.normal(0, 0.05, a.size))
    assert noisy["verdict"] == "tie"
    assert paired(a + 0.001, a)["verdict"] == "worse"


def test_weighted_median_beats_the_percentile_rule_on_fresh_profiles():
    problem = FacilityProblem(5, 1, "uniform", "fixed", n_train=300, n_test=100)
    code = "import numpy as np\n" + _source(VECTOR_DOC, Composition((Quantile(1.0, 0.5),)).body())
    train = problem.profiles("search").peaks
    with Sandbox(workers=1) as sb:
        out = paired_verdicts(Evaluator(problem, sb), code, {"percentile": fit_percentile(train, problem.weights, 1).fn,
                                                              "itself": lambda p, w, k: p[:, [0]]}, 100_000)
    assert out["profiles"] == 100_000
    per = out["vs"]["percentile"]
    assert per["verdict"] == "better" and per["mean_difference"] < -10 * per["paired_se"]
    # with weights (5, 1, 1, 1, 1) the weighted median is agent 0's peak: an exact tie with that dictator
    assert out["vs"]["itself"]["verdict"] == "tie" and out["vs"]["itself"]["paired_se"] == 0.0
    worst = "import numpy as np\n" + _source(VECTOR_DOC, "return np.sort(peaks, axis=1)[:, [4]]")
    with Sandbox(workers=1) as sb:
        worse = paired_verdicts(Evaluator(problem, sb), worst, {"median": percentile_rule((2,))}, 20_000)["vs"]["median"]
    assert worse["verdict"] == "worse" and worse["mean_difference"] > 10 * worse["paired_se"]


def test_locations_go_through_the_evaluator_with_the_problems_locations_harness():
    problem = FacilityProblem(5, 2, "uniform", "none", n_train=30, n_test=30)
    assert problem.harnesses == {"locations": "amdlib.problems.facility.harness:locations"}
    code = "import numpy as np\n" + _source(VECTOR_DOC, "return np.sort(peaks, axis=1)[:, [1, 3]]")
    peaks = np.random.default_rng(0).uniform(size=(7, 5))
    with Sandbox(workers=1) as sb:
        assert np.array_equal(code_locations(Evaluator(problem, sb), code, peaks), np.sort(peaks, axis=1)[:, [1, 3]])
        broken = "import numpy as np\n" + _source(VECTOR_DOC, "raise ValueError('no')")
        with pytest.raises(RuntimeError, match="learned mechanism failed on fresh profiles"):
            code_locations(Evaluator(problem, sb), broken, peaks)
