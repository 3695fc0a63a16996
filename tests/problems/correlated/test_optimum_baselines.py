"""Ground truths: the MILP optimum and the baselines of EXPERIMENTS.md section 3."""

import numpy as np
import pytest

from amdlib.problems.correlated.audit import audit, verdict
from amdlib.problems.correlated.baselines import (all_baselines, audited, conditional_virtual_values, greedy_bound,
                                                  greedy_ironed, myerson_marginals, spa_reserve)
from amdlib.problems.correlated.distribution import GridLaw
from amdlib.problems.correlated.mechanism import Thresholds
from amdlib.problems.correlated.optimum import optimal_mechanism


@pytest.mark.parametrize("rho, expected", [(0.5, 0.455159), (0.0, 0.436508), (1.0, 0.5)])
def test_milp_optimum_matches_the_verified_values(rho, expected):
    law = GridLaw(21, rho)
    opt = optimal_mechanism(law)
    assert opt.revenue == pytest.approx(expected, abs=1e-5)
    assert opt.mechanism.feasible()
    x1, x2 = opt.mechanism.allocation()
    p1, p2 = opt.mechanism.payments(law.values)
    checks = audit(x1, p1, x2, p2, law.values, law.pmf)
    assert checks["max_regret"] == 0.0 and checks["min_utility"] >= 0.0


def test_baselines_at_rho_half():
    law = GridLaw(21, 0.5)
    assert myerson_marginals(law)["revenue"] == pytest.approx(0.4028, abs=5e-5)
    spa = spa_reserve(law)
    assert spa["revenue"] == pytest.approx(0.4334, abs=5e-5) and spa["reserve"] == pytest.approx(0.3)
    bound = greedy_bound(law)
    assert bound["revenue"] == pytest.approx(0.4641, abs=5e-5) and bound["mechanism"] is False
    for entry in (myerson_marginals(law), spa, greedy_ironed(law)):
        assert entry["feasible"] and entry["audit"]["max_regret"] == 0.0


def _greedy_by_enumeration(law):
    """The greedy ironed rule written out profile by profile, with its own monotonicity check and
    threshold payments (independent of the fixing step and of the audit module)."""
    phi1, phi2 = conditional_virtual_values(law)
    g, v = law.grid_size, law.values
    win = {}
    for a in range(g):
        for b in range(g):
            s1, s2 = round(float(phi1[a, b]), 9), round(float(phi2[a, b]), 9)
            if law.pmf[a, b] <= 0 or max(s1, s2) <= 0:
                win[a, b] = 0
            elif s1 > s2 or (s1 == s2 and a >= b):
                win[a, b] = 1
            else:
                win[a, b] = 2
    monotone = all(win[a, b] != 1 or win[a + 1, b] == 1 for a in range(g - 1) for b in range(g)) and \
        all(win[a, b] != 2 or win[a, b + 1] == 2 for a in range(g) for b in range(g - 1))
    rev = 0.0
    for a in range(g):
        for b in range(g):
            if win[a, b] == 1:  # pays the lowest own bid that still wins against b
                rev += law.pmf[a, b] * v[min(k for k in range(g) if win[k, b] == 1)]
            elif win[a, b] == 2:
                rev += law.pmf[a, b] * v[min(k for k in range(g) if win[a, k] == 2)]
    return monotone, rev


@pytest.mark.parametrize("rho, revenue", [(0.5, 0.448810), (0.25, 0.437075)])
def test_greedy_ironed_rule_is_monotone_sp_and_ir_by_an_independent_enumeration(rho, revenue):
    law = GridLaw(21, rho)
    monotone, rev = _greedy_by_enumeration(law)
    got = greedy_ironed(law)
    assert monotone and got["monotone_before_fix"] and got["fix_changed_mass"] == 0.0
    assert rev == pytest.approx(revenue, abs=1e-6) and got["revenue"] == pytest.approx(rev, abs=1e-12)
    assert got["feasible"] and got["sp"] and got["ir"]
    # the bound is out of reach because of ironing: greedy earns less than it
    assert greedy_bound(law)["revenue"] > got["revenue"] + 0.01


def test_verdict_flags_come_from_the_audit_and_can_be_false():
    law = GridLaw(5, 0.5)
    v = law.values
    assert audited(law, Thresholds(np.array([0] * 5), np.array([5] * 5)))["feasible"]
    clash = audited(law, Thresholds(np.array([0] * 5), np.array([0] * 5)))  # both always win
    assert clash["sp"] and clash["ir"] and not clash["feasible"]
    # bidder 1 faces thresholds (SP); bidder 2 wins above bidder 1 and pays its own bid (not SP)
    x1 = (np.arange(5)[:, None] >= np.arange(5)[None, :]).astype(float)
    x2 = 1.0 - x1
    p1 = x1 * v[None, :]
    checks = audit(x1, p1, x2, x2 * v[None, :], v, law.pmf)
    assert checks["max_regret"] > 0 and verdict(checks) == {"sp": False, "ir": True, "feasible": False}
    # the same with bidder 2 charged more than its value: IR fails too
    checks = audit(x1, p1, x2, x2 * (v[None, :] + 0.5), v, law.pmf)
    assert not verdict(checks)["ir"] and checks["min_utility"] == pytest.approx(-0.5)


def test_independent_case_collapses_to_myerson():
    b = all_baselines(GridLaw(21, 0.0))
    opt = b["optimum"]["revenue"]
    assert b["myerson_marginals"]["revenue"] == pytest.approx(opt)
    assert b["greedy_bound"]["revenue"] == pytest.approx(opt)


@pytest.mark.parametrize("rho", [0.2, 0.5, 0.8])
def test_ordering_of_baselines(rho):
    b = all_baselines(GridLaw(15, rho))
    opt = b["optimum"]["revenue"]
    assert b["myerson_marginals"]["revenue"] <= opt + 1e-12
    assert b["spa_reserve"]["revenue"] <= opt + 1e-12
    assert b["greedy_ironed"]["revenue"] <= opt + 1e-12 and b["greedy_ironed"]["feasible"]
    assert opt <= b["greedy_bound"]["revenue"] + 1e-12
    t = b["optimum"]["mechanism"]
    assert len(t["t1"]) == len(t["t2"]) == 15
