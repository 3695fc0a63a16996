"""The fix: SP, IR and non-deficit on random and adversarial profiles (hypothesis), exactness."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from amdlib.problems.redistribution import baselines as lin
from amdlib.problems.redistribution.evaluation import adversarial_profiles, rule_mechanism
from amdlib.problems.redistribution.fix import TOL
from amdlib.problems.redistribution.model import vcg_revenue
from tests.problems.redistribution.dense import dense_min_ratio

SETTINGS = [(3, 1), (4, 1), (4, 2), (5, 2), (6, 3)]
LEVELS = st.sampled_from([0.0, 0.25, 0.5, 1.0]) | st.floats(0.0, 1.0)


def convex_rule(w):
    """A random rule convex along each order statistic: linear + products + positive squares + max."""
    a, b, c, d, e = w

    def h(o, n, m):
        return (a * o[:, m] + b * o[:, m - 1] + c * o[:, 0] + d * o[:, m] * o[:, -1] + abs(e) * o[:, m - 1] ** 2
                + np.maximum(o[:, m - 1] - 0.5 * o[:, 0], 0.0))

    return h


def sorted_profile(values):
    return -np.sort(-np.asarray(values, float))[None]


@settings(max_examples=60, deadline=None)
@given(setting=st.sampled_from(SETTINGS), data=st.data(), w=st.lists(st.floats(-2, 2), min_size=5, max_size=5))
def test_sp_ir_non_deficit(setting, data, w):
    n, m = setting
    values = data.draw(st.lists(LEVELS, min_size=n, max_size=n))
    mech = rule_mechanism(convex_rule(w), n, m)
    b = sorted_profile(values)
    r = mech(b)["rebates"][0]
    assert np.all(r >= -TOL)
    assert r.sum() <= vcg_revenue(b, m)[0] + 1e-9
    # SP: bidder k's rebate is the same whatever it bids (the others fixed)
    k = data.draw(st.integers(0, n - 1))
    others = np.delete(b[0], k)
    for x in (0.0, 1.0, data.draw(LEVELS), others[0]):
        b2 = -np.sort(-np.append(others, x))
        r2 = mech(b2[None])["rebates"][0]
        rank = int(np.flatnonzero(b2 == x)[0])  # any tied rank has the same others
        assert r2[rank] == pytest.approx(r[k], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("n,m", SETTINGS)
def test_non_deficit_on_adversarial_grid(n, m):
    profiles = adversarial_profiles(n, levels=5)
    rng = np.random.default_rng(n * 10 + m)
    for _ in range(3):
        res = rule_mechanism(convex_rule(rng.uniform(-2, 2, 5)), n, m)(profiles)
        assert np.all(res["rebates"].sum(axis=1) <= vcg_revenue(profiles, m) + 1e-9)
        assert np.all(res["rebates"] >= 0)


@pytest.mark.parametrize("n,m", SETTINGS)
def test_fix_keeps_bailey_cavallo(n, m):
    profiles = adversarial_profiles(n, levels=4)[1:]
    h = lin.linear_rebate(lin.bailey_cavallo(n, m))
    fixed = rule_mechanism(h, n, m)(profiles)
    raw = rule_mechanism(h, n, m, fixed=False)(profiles)
    assert np.allclose(fixed["rebates"], raw["rebates"], atol=1e-12)


def test_scale_matches_dense_own_bid_search():
    """s_k equals the minimum ratio over a dense own-bid grid (the breakpoints hold the minimum)."""
    n, m = 5, 2
    h = convex_rule([0.3, 1.0, -0.2, 0.5, 0.4])
    rng = np.random.default_rng(3)
    b = -np.sort(-rng.uniform(size=n))
    res = rule_mechanism(h, n, m)(b[None])
    for k in range(n):
        dense = dense_min_ratio(h, b, k, n, m, 2001)
        assert res["scale"][0, k] == pytest.approx(dense, rel=2e-3)
        assert res["scale"][0, k] <= dense + 1e-12


def test_fix_is_scale_invariant():
    n, m = 4, 2
    profiles = adversarial_profiles(n, levels=6)
    h = convex_rule([0.2, 1.0, -0.1, 0.3, 0.2])
    a = rule_mechanism(h, n, m)(profiles)["rebates"]
    b = rule_mechanism(lambda o, n, m: 7.5 * h(o, n, m), n, m)(profiles)["rebates"]
    assert np.allclose(a, b, atol=1e-12)
