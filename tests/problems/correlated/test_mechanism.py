"""The fixing step: any score tables become an exactly SP, IR and feasible mechanism."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from amdlib.problems.correlated.audit import audit
from amdlib.problems.correlated.distribution import GridLaw
from amdlib.problems.correlated.mechanism import Thresholds, fix, fix_scores, raw_allocation, revenue

G = 7
scores = arrays(np.float64, (G, G), elements=st.sampled_from([-1.0, -0.2, 0.0, 0.1, 0.3, 0.5, 0.9]))


def _audit(mech, law):
    x1, x2 = mech.allocation()
    p1, p2 = mech.payments(law.values)
    return audit(x1, p1, x2, p2, law.values, law.pmf)


@settings(max_examples=150, deadline=None)
@given(scores, scores, st.sampled_from([0.0, 0.5, 0.9]))
def test_fixed_mechanism_is_sp_ir_and_feasible(s1, s2, rho):
    law = GridLaw(G, rho)
    rep = fix_scores(s1, s2, law.values, law.pmf)
    checks = _audit(rep.mechanism, law)
    assert checks["max_regret"] == 0.0
    assert checks["min_utility"] >= 0.0
    assert checks["max_allocation"] <= 1.0
    assert rep.mechanism.feasible()
    assert rep.revenue == pytest.approx(revenue(rep.mechanism, law.values, law.pmf))


@settings(max_examples=100, deadline=None)
@given(scores, scores)
def test_fix_only_removes_wins_and_keeps_monotone_rules(s1, s2):
    win1, win2 = raw_allocation(s1, s2)
    assert not np.any(win1 & win2)
    x1, x2 = fix(win1, win2).allocation()
    assert np.all(x1 <= win1) and np.all(x2 <= win2)
    # A rule that is already monotone in each own bid is left unchanged.
    y1, y2 = x1.astype(bool), x2.astype(bool)
    z1, z2 = fix(y1, y2).allocation()
    assert np.array_equal(z1, x1) and np.array_equal(z2, x2)


def test_non_monotone_rule_is_fixed_by_raising_the_threshold():
    # Bidder 1 (given any b) wins at a = 1, loses at a = 2, wins from a = 3: threshold becomes 3.
    win1 = np.zeros((5, 5), bool)
    win1[1] = True
    win1[3:] = True
    mech = fix(win1, np.zeros((5, 5), bool))
    assert list(mech.t1) == [3] * 5 and list(mech.t2) == [5] * 5
    law = GridLaw(5, 0.0)
    assert revenue(mech, law.values, law.pmf) == pytest.approx(0.75 * 2 / 5)


def test_threshold_mechanism_tables_and_infeasibility():
    law = GridLaw(3, 0.0)
    mech = Thresholds(np.array([0, 0, 0]), np.array([3, 3, 3]))  # bidder 1 always wins at price 0
    assert mech.feasible() and revenue(mech, law.values, law.pmf) == 0.0
    clash = Thresholds(np.array([0, 0, 0]), np.array([0, 0, 0]))
    assert not clash.feasible()
    assert _audit(clash, law)["max_allocation"] == 2.0


def test_ties_go_to_the_higher_bid_then_bidder_one():
    s = np.zeros((3, 3))
    win1, win2 = raw_allocation(s, s.T)
    assert win1[2, 1] and win2[1, 2] and win1[1, 1] and not win2[1, 1]


def test_audit_detects_a_first_price_auction():
    law = GridLaw(5, 0.5)
    v = law.values
    x1 = (v[:, None] >= v[None, :]).astype(float)
    x2 = 1.0 - x1
    p1, p2 = x1 * v[:, None], x2 * v[None, :]  # pay your bid: IR but not SP
    checks = audit(x1, p1, x2, p2, v, law.pmf)
    assert checks["max_regret"] > 0.2 and checks["min_utility"] == 0.0
