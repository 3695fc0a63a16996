"""Ground truths: closed forms, quadrature, Monte Carlo and the optimisers agree."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from amdlib.problems.multi_item import baselines as B
from amdlib.problems.multi_item.distributions import ValueLaw

U = ValueLaw()
BETA = ValueLaw("beta", 2.0, 2.0)


def test_the_known_uniform_figures():
    assert B.two_price_revenue_uniform(B.MV_ITEM, B.MV_BUNDLE) == pytest.approx(0.549201, abs=1e-6)
    assert B.two_price_revenue_uniform(2.0, math.sqrt(2 / 3)) == pytest.approx(0.544331, abs=1e-6)
    assert B.two_price_revenue_uniform(0.5, 1.0) == pytest.approx(0.5)
    assert B.best_item_price(U) == pytest.approx(0.5, abs=1e-6)
    assert B.best_bundle_price(U) == pytest.approx(math.sqrt(2 / 3), abs=1e-6)
    item, bundle = B.best_two_price_menu(U)
    assert item == pytest.approx(2 / 3, abs=1e-4) and bundle == pytest.approx(B.MV_BUNDLE, abs=1e-4)


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_quadrature_matches_the_uniform_closed_form(item, fraction):
    bundle = min(2.0, 2.0 * item) * fraction
    assert B.two_price_revenue(U, item, bundle) == pytest.approx(B.two_price_revenue_uniform(item, bundle), abs=1e-6)


@pytest.mark.parametrize("law", [U, BETA], ids=["uniform", "beta"])
@pytest.mark.parametrize("prices", [(0.6, 0.9), (0.45, 0.8), (0.9, 0.8), (0.5, 1.0), (0.7, 1.3)])
def test_monte_carlo_agrees_with_the_integral(law, prices):
    v1, v2 = law.sample(7, 200_000)
    mc = B.mean_se(B.two_price_menu(*prices).payments(v1, v2))
    assert abs(mc["revenue"] - B.two_price_revenue(law, *prices)) < 4 * mc["se"]


def test_a_bundle_dearer_than_both_items_is_refused():
    with pytest.raises(ValueError):
        B.two_price_revenue(U, 0.5, 1.2)


def test_reference_menus_are_ordered_for_both_laws():
    for law in (U, BETA):
        refs = B.reference_menus(law)
        best = refs["manelli_vincent" if law.is_uniform else "two_price"]["revenue"]
        assert best >= refs["bundling"]["revenue"] - 1e-9 and best >= refs["separate"]["revenue"] - 1e-9
    assert B.reference_menus(U)["bundling"]["closed_form"] == pytest.approx(0.544331, abs=1e-6)
    assert "manelli_vincent" not in B.reference_menus(BETA)


def test_paired_difference_and_its_se():
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 1.0, 1.0, 1.0])
    d = B.paired(a, b)
    assert d["difference"] == 1.5 and d["se"] == pytest.approx(np.std([0, 1, 2, 3], ddof=1) / 2)
