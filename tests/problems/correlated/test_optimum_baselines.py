"""Ground truths: the MILP optimum and the baselines of EXPERIMENTS.md section 3."""

import numpy as np
import pytest

from amdlib.problems.correlated.audit import audit
from amdlib.problems.correlated.baselines import all_baselines, greedy_bound, myerson_marginals, spa_reserve
from amdlib.problems.correlated.distribution import GridLaw
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
    assert bound["revenue"] == pytest.approx(0.4641, abs=5e-5) and bound["feasible"] is False


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
    assert b["greedy_bound"]["fixed_revenue"] <= opt + 1e-12
    assert opt <= b["greedy_bound"]["revenue"] + 1e-12
    t = b["optimum"]["mechanism"]
    assert len(t["t1"]) == len(t["t2"]) == 15
