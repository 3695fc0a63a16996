"""RegretNet (short, deterministic training) and the NNA distillation problem."""

import numpy as np
import pytest

from amdlib.problems.correlated.distribution import GridLaw
from amdlib.problems.correlated.harness import harness
from amdlib.problems.correlated.mechanism import fix_scores
from amdlib.problems.correlated.nna import DistillProblem, l2_distance, tables_of
from amdlib.problems.correlated.regretnet import RegretNetConfig, load, train, train_or_load

LAW = GridLaw(9, 0.5)
CFG = RegretNetConfig(hidden=8, steps=60, update_every=10)


@pytest.fixture(scope="module")
def net():
    return train(LAW, CFG)


def test_training_is_deterministic_and_reports_revenue_and_regret(net):
    again = train(LAW, CFG)
    assert again.revenue == net.revenue
    t = net.tables
    assert set(t) == {"x1", "p1", "x2", "p2"}
    assert np.all(t["x1"] + t["x2"] <= 1 + 1e-9)
    assert np.all(t["p1"] <= t["x1"] * LAW.values[:, None] + 1e-12)  # IR by construction
    assert net.audit["min_utility"] >= -1e-12 and net.audit["expected_regret"] >= 0.0
    assert 0.0 < net.revenue < 1.0
    s = net.summary()
    assert s["revenue"] == net.revenue and s["config"]["steps"] == 60
    assert len(net.curve) == 6


def test_regret_penalty_lowers_regret():
    free = train(LAW, RegretNetConfig(hidden=8, steps=60, update_every=10, penalty=0.0, penalty_growth=1.0))
    tight = train(LAW, RegretNetConfig(hidden=8, steps=60, update_every=10, penalty=50.0))
    assert tight.audit["expected_regret"] < free.audit["expected_regret"]


def test_cache_round_trip(tmp_path, net):
    path = tmp_path / "net.pt"
    first = train_or_load(LAW, CFG, path)
    assert path.is_file()
    cached = load(LAW, CFG, path)
    assert cached is not None and cached.revenue == pytest.approx(first.revenue, abs=1e-15)
    assert load(LAW, RegretNetConfig(hidden=8, steps=61), path) is None
    assert load(GridLaw(9, 0.2), CFG, path) is None


def test_distill_scores_minus_the_l2_distance_to_the_target():
    zero = lambda b, o, ps, pa, st: np.zeros_like(b)  # noqa: E731 - second-price auction
    rep = fix_scores(np.zeros((9, 9)), np.zeros((9, 9)), LAW.values, LAW.pmf)
    own = tables_of(rep.mechanism, LAW.values)
    prob = DistillProblem(9, 0.5, own)
    ev = prob.score(harness(zero, prob.payload("search")), "search")
    assert ev.valid and ev.score == 0.0 and ev.metrics["distance"] == 0.0
    shifted = {**own, "p1": own["p1"] + 0.1}
    ev2 = DistillProblem(9, 0.5, shifted).score(harness(zero, prob.payload("search")), "search")
    expected = np.sqrt(np.sum(LAW.pmf * 0.01))
    assert ev2.score == pytest.approx(-expected) and "L2 distance" in ev2.diagnostics
    assert l2_distance(own, shifted, LAW.pmf) == pytest.approx(expected)
    with pytest.raises(ValueError):
        DistillProblem(9, 0.5, {"x1": np.zeros((2, 2))})


def test_distilling_a_network_gives_a_reported_gap(net):
    prob = DistillProblem(9, 0.5, net.tables)
    ev = prob.score(harness(lambda b, o, ps, pa, st: b - 0.3, prob.payload("search")), "search")
    assert ev.valid and ev.score < 0 and ev.metrics["max_regret"] == 0.0
