"""The joint law and the discrete (ironed) virtual values."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amdlib.problems.correlated.distribution import GridLaw, ironed_virtual_values, tail, virtual_values


@pytest.mark.parametrize("rho", [0.0, 0.3, 1.0])
def test_pmf_is_a_symmetric_law_with_uniform_marginals(rho):
    law = GridLaw(11, rho)
    assert law.pmf.sum() == pytest.approx(1.0)
    assert np.allclose(law.pmf, law.pmf.T)
    assert np.allclose(law.pmf.sum(axis=1), 1 / 11)
    assert np.allclose(np.trace(law.pmf), rho + (1 - rho) / 11)
    assert np.allclose(law.conditional.sum(axis=0), 1.0)


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError):
        GridLaw(1, 0.5)
    with pytest.raises(ValueError):
        GridLaw(5, 1.5)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.01, 1.0), min_size=3, max_size=12), st.integers(0, 11))
def test_virtual_values_integrate_to_threshold_revenue(weights, t):
    p = np.array(weights) / np.sum(weights)
    v = np.linspace(0, 1, len(p))
    t = min(t, len(p) - 1)
    phi = virtual_values(v, p[:, None])[:, 0]
    assert np.sum(p[t:] * phi[t:]) == pytest.approx(v[t] * p[t:].sum(), abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.01, 1.0), min_size=3, max_size=12))
def test_ironed_values_are_monotone_and_keep_the_best_revenue(weights):
    p = np.array(weights) / np.sum(weights)
    v = np.linspace(0, 1, len(p))
    phi = virtual_values(v, p[:, None])[:, 0]
    bar = ironed_virtual_values(v, p[:, None])[:, 0]
    assert np.all(np.diff(bar) >= -1e-12)
    # Same total mass-weighted value, and the best posted price is unchanged by ironing.
    assert np.sum(p * bar) == pytest.approx(np.sum(p * phi), abs=1e-12)
    best_price = max(v[t] * p[t:].sum() for t in range(len(p)))
    assert np.sum(p * np.maximum(bar, 0)) == pytest.approx(best_price, abs=1e-12)


def test_regular_law_needs_no_ironing_and_tail_is_reverse_cumsum():
    law = GridLaw(21, 0.0)
    phi = virtual_values(law.values, law.conditional)
    assert np.allclose(phi, ironed_virtual_values(law.values, law.conditional))
    assert np.allclose(phi[:, 0], 2 * law.values - 1)  # uniform grid: phi = 2v - 1
    assert np.allclose(tail(np.ones((4, 1)))[:, 0], [4, 3, 2, 1])
