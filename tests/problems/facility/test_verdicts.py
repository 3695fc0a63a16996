"""Paired verdicts on fresh profiles, with the learned code run in the real sandbox."""

from __future__ import annotations

import numpy as np
import pytest

from amdlib.core.sandbox import Sandbox
from amdlib.problems.facility.baselines import fit_percentile, percentile_rule
from amdlib.problems.facility.families import Quantile, render_body
from amdlib.problems.facility.problem import FacilityProblem, _source, VECTOR_DOC
from amdlib.problems.facility.verdicts import paired, paired_verdicts


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
    code = "import numpy as np\n" + _source(VECTOR_DOC, render_body((Quantile(1.0, 0.5),)))
    train = problem.profiles("search").peaks
    with Sandbox(workers=1) as sb:
        out = paired_verdicts(sb, problem, code, {"percentile": fit_percentile(train, problem.weights, 1).fn,
                                                   "itself": lambda p, w, k: p[:, [0]]}, 100_000)
    assert out["profiles"] == 100_000
    per = out["vs"]["percentile"]
    assert per["verdict"] == "better" and per["mean_difference"] < -10 * per["paired_se"]
    # with weights (5, 1, 1, 1, 1) the weighted median is agent 0's peak: an exact tie with that dictator
    assert out["vs"]["itself"]["verdict"] == "tie" and out["vs"]["itself"]["paired_se"] == 0.0
    worst = "import numpy as np\n" + _source(VECTOR_DOC, "return np.sort(peaks, axis=1)[:, [4]]")
    with Sandbox(workers=1) as sb:
        worse = paired_verdicts(sb, problem, worst, {"median": percentile_rule((2,))}, 20_000)["vs"]["median"]
    assert worse["verdict"] == "worse" and worse["mean_difference"] > 10 * worse["paired_se"]
