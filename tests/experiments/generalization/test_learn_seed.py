"""The mechanisms learned here start from Experiment 4's SP families (seed_rule) and keep their quality."""

from __future__ import annotations

import numpy as np
import pytest

from amdlib.experiments.generalization import EXPERIMENT
from amdlib.pipeline.params import validate
from amdlib.problems.facility.baselines import nonsp_optimum
from amdlib.problems.facility.costs import social_costs
from amdlib.problems.facility.data import make_profiles, resolve_weights
from amdlib.experiments.generalization.study import learn_here


def test_k1_weighted_learning_reaches_the_weighted_median():
    params = validate(EXPERIMENT, {"ks": [1], "weightings": ["fixed"], "max_evaluations": 4, "pop_size": 2, "workers": 1,
                                   "n_train": 80, "n_test": 40, "seed_rule": "families"}, "test")
    (mech,), searches = learn_here(params)
    ns: dict = {}
    exec(mech.code, ns)
    w = resolve_weights("fixed", 5)
    peaks = make_profiles("beta1", 5, 300, 1, 7, "test").peaks  # another distribution: the optimum is distribution-free
    cost = social_costs(peaks, np.asarray(ns["mechanism"](peaks, w, 1)).reshape(-1, 1), w).mean()
    best = social_costs(peaks, nonsp_optimum(peaks, w, 1), w).mean()
    assert cost == pytest.approx(best, abs=1e-12)
    assert searches and mech.code.count("weights ** g") >= 1  # the weighted-quantile family, not a hard-coded dictator
