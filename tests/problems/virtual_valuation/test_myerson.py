"""Ground truths: Myerson's optimum (with ironing) and second-price auctions."""

import math

import pytest

from amdlib.errors import UserError
from amdlib.problems.virtual_valuation.distributions import parse_distribution
from amdlib.problems.virtual_valuation.myerson import best_reserve, myerson, second_price_revenue


@pytest.mark.parametrize(
    "dist,n,expected,tol",
    [("beta(2,5)", 2, 0.2216193, 2e-6), ("beta(2,5)", 3, 0.282235, 2e-6), ("beta(2,5)", 5, 0.359794, 2e-6), ("uniform", 2, 5 / 12, 1e-6)],
)
def test_optimal_revenue_matches_spec(dist, n, expected, tol):
    assert myerson(parse_distribution(dist), n).revenue == pytest.approx(expected, abs=tol)


def test_beta25_reserve_and_second_price():
    dist = parse_distribution("beta(2,5)")
    sol = myerson(dist, 2)
    assert sol.reserve == pytest.approx((2 + math.sqrt(39)) / 35, abs=1e-4)
    assert not sol.ironed
    assert second_price_revenue(dist, 2, 0.0) == pytest.approx(0.195804, abs=2e-6)
    reserve, revenue = best_reserve(dist, 2)
    # Regular law: second price with the Myerson reserve is optimal.
    assert reserve == pytest.approx(sol.reserve, abs=2e-3)
    assert revenue == pytest.approx(sol.revenue, abs=1e-6)


def test_bimodal_needs_ironing_and_beats_every_reserve():
    dist = parse_distribution("bimodal")
    sol = myerson(dist, 2)
    assert sol.ironed
    _, spa_r = best_reserve(dist, 2)
    assert sol.revenue > spa_r + 0.005


def test_uniform_single_bidder_is_posted_price():
    sol = myerson(parse_distribution("uniform"), 1)
    assert sol.revenue == pytest.approx(0.25, abs=1e-6)
    assert sol.reserve == pytest.approx(0.5, abs=1e-4)


@pytest.mark.parametrize("bad", ["gamma", "beta(0.5,2)", "beta(2)", ""])
def test_bad_distribution_is_one_line_error(bad):
    with pytest.raises(UserError) as err:
        parse_distribution(bad)
    assert "\n" not in str(err.value)
