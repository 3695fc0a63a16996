"""Neural baseline (input-convex, so the fix is exact for it) and NNA distillation scoring."""

import numpy as np
import pytest

from amdlib.problems.redistribution import convexity, neural
from amdlib.problems.redistribution.evaluation import adversarial_profiles, rule_mechanism
from amdlib.problems.redistribution.harness import harness
from amdlib.problems.redistribution.model import vcg_revenue
from amdlib.problems.redistribution.nna import DistillProblem
from amdlib.problems.redistribution.problem import RedistributionProblem


@pytest.fixture(scope="module")
def net():
    return neural.train(4, 2, steps=60, batch=128, seed=0)


def test_network_is_convex_and_fixed_mechanism_feasible(net):
    pts = convexity.lines(np.random.default_rng(0), 100, 4)
    assert convexity.worst_second_difference(net.rebate(pts, 4, 2)) >= -1e-9
    profiles = adversarial_profiles(4, levels=8)
    res = rule_mechanism(net.rebate, 4, 2)(profiles)
    assert np.all(res["rebates"].sum(axis=1) <= vcg_revenue(profiles, 2) + 1e-9)
    assert np.all(res["rebates"] >= 0)


def test_training_is_deterministic(net):
    again = neural.train(4, 2, steps=60, batch=128, seed=0)
    x = np.random.default_rng(1).uniform(size=(10, 3))
    assert np.allclose(net.rebate(x, 4, 2), again.rebate(x, 4, 2))


def test_distill_score(net):
    base = RedistributionProblem(4, 2, n_search=300, n_lines=30)
    d = DistillProblem(base, net.rebate)
    perfect = d.score(harness(net.rebate, d.payload("search")), "search")
    assert perfect.valid and perfect.score == pytest.approx(0.0, abs=1e-12)
    zero = d.score(harness(lambda o, n, m: 0.0, d.payload("search")), "search")
    assert zero.valid and zero.score < -1e-3
    assert not d.score(harness(lambda o, n, m: np.sqrt(o[:, 0]), d.payload("search")), "search").valid
