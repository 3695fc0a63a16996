"""Manual rules: closed forms, the OEL linear program, Monte Carlo agreement."""

import numpy as np
import pytest

from amdlib.problems.redistribution import baselines as lin
from amdlib.problems.redistribution.evaluation import rule_mechanism
from amdlib.problems.redistribution.model import sample_profiles, vcg_revenue
from amdlib.problems.redistribution.stats import ratio_se

SETTINGS = [(3, 1), (4, 1), (4, 2), (5, 2), (6, 3), (10, 5)]


@pytest.mark.parametrize("n,m,bc", [(4, 2, 0.625), (5, 2, 0.8), (6, 3, 0.7778), (10, 5, 0.88)])
def test_bc_closed_form(n, m, bc):
    assert lin.bc_expected_fraction_uniform(n, m) == pytest.approx(bc, abs=1e-4)
    assert lin.expected_fraction(lin.bailey_cavallo(n, m), n, m, "uniform") == pytest.approx(bc, abs=1e-4)


@pytest.mark.parametrize("n,m,value", [(4, 2, 0.625), (5, 2, 0.636), (6, 3, 0.583), (9, 6, 0.4955), (10, 5, 0.705)])
def test_wco_expected_and_worst_case(n, m, value):
    c = lin.wco(n, m)
    assert lin.expected_fraction(c, n, m, "uniform") == pytest.approx(value, abs=1e-3)
    assert lin.linear_worst_case(c, n, m) == pytest.approx(lin.wco_alpha(n, m), abs=1e-9)


@pytest.mark.parametrize("n,m", SETTINGS)
@pytest.mark.parametrize("dist", ["uniform", "beta"])
def test_oel_at_least_bc_and_wco(n, m, dist):
    oel = lin.expected_fraction(lin.oel(n, m, dist), n, m, dist)
    assert oel >= lin.expected_fraction(lin.bailey_cavallo(n, m), n, m, dist) - 1e-9
    assert oel >= lin.expected_fraction(lin.wco(n, m), n, m, dist) - 1e-9
    assert lin.linear_worst_case(lin.oel(n, m, dist), n, m) >= -1e-9  # feasible: non-deficit, IR at vertices


@pytest.mark.parametrize("n,m", [(4, 2), (6, 3)])
def test_monte_carlo_matches_closed_forms(n, m):
    profiles = sample_profiles(np.random.default_rng(0), 40_000, n)
    revenue = vcg_revenue(profiles, m)
    for c, exact in ((lin.bailey_cavallo(n, m), lin.bc_expected_fraction_uniform(n, m)),
                     (lin.wco(n, m), lin.expected_fraction(lin.wco(n, m), n, m, "uniform"))):
        total = rule_mechanism(lin.linear_rebate(c), n, m, fixed=False)(profiles)["rebates"].sum(axis=1)
        assert abs(total.mean() / revenue.mean() - exact) < 4 * ratio_se(total, revenue)


def test_beta_order_statistics_match_monte_carlo():
    e = np.array(lin.expected_order_stats(4, "beta"))
    mc = sample_profiles(np.random.default_rng(1), 200_000, 4, "beta").mean(axis=0)
    assert np.allclose(e, mc, atol=2e-3)
