"""The fix's second exact family: nondecreasing star-shaped rebates of the m-th other bid alone.

See :mod:`amdlib.problems.redistribution.convexity` for the proof; here the fix
is checked to be exact (its breakpoint minimum equals a dense own-bid search)
and the mechanism SP, IR and non-deficit on random and adversarial profiles,
and the screen is checked to accept the family and reject rules outside it.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from amdlib.problems.redistribution import convexity
from amdlib.problems.redistribution.evaluation import adversarial_profiles, rule_mechanism
from amdlib.problems.redistribution.fix import TOL
from amdlib.problems.redistribution.model import vcg_revenue
from tests.problems.redistribution.dense import dense_min_ratio

SETTINGS = [(3, 1), (4, 1), (4, 2), (5, 2), (6, 3)]
LEVELS = st.sampled_from([0.0, 0.25, 0.5, 1.0]) | st.floats(0.0, 1.0)


def star_rule(w):
    """``d + min(o_m, c) + a o_m - k o_m^2`` with ``k <= a / 2``: a sum of nondecreasing star-shaped parts."""
    c, a, k, d = w
    k = min(k, a / 2)

    def h(o, n, m):
        b = o[:, m - 1]
        return d + np.minimum(b, c) + a * b - k * b ** 2

    return h


WEIGHTS = st.tuples(st.floats(0.05, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 0.5), st.floats(0.0, 0.2))


@settings(max_examples=60, deadline=None)
@given(setting=st.sampled_from(SETTINGS), data=st.data(), w=WEIGHTS)
def test_sp_ir_non_deficit(setting, data, w):
    n, m = setting
    b = -np.sort(-np.asarray(data.draw(st.lists(LEVELS, min_size=n, max_size=n)), float))[None]
    mech = rule_mechanism(star_rule(w), n, m)
    r = mech(b)["rebates"][0]
    assert np.all(r >= -TOL)
    assert r.sum() <= vcg_revenue(b, m)[0] + 1e-9
    k = data.draw(st.integers(0, n - 1))
    others = np.delete(b[0], k)
    for x in (0.0, 1.0, data.draw(LEVELS)):
        b2 = -np.sort(-np.append(others, x))
        rank = int(np.flatnonzero(b2 == x)[0])
        assert mech(b2[None])["rebates"][0][rank] == pytest.approx(r[k], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("n,m", SETTINGS)
def test_non_deficit_on_adversarial_grid(n, m):
    profiles = adversarial_profiles(n, levels=6)
    rng = np.random.default_rng(n * 10 + m)
    for _ in range(3):
        w = (rng.uniform(0.05, 1), rng.uniform(0, 1), rng.uniform(0, 0.5), rng.uniform(0, 0.2))
        res = rule_mechanism(star_rule(w), n, m)(profiles)
        assert np.all(res["rebates"].sum(axis=1) <= vcg_revenue(profiles, m) + 1e-9)
        assert np.all(res["rebates"] >= 0)


@pytest.mark.parametrize("n,m,w", [(5, 2, (0.75, 0.0, 0.0, 0.0)), (4, 1, (0.4, 0.5, 0.25, 0.05))])
def test_scale_matches_dense_own_bid_search(n, m, w):
    """The fix's breakpoint minimum is the minimum over a dense grid of own bids (exactness)."""
    h = star_rule(w)
    b = -np.sort(-np.random.default_rng(3).uniform(size=n))
    res = rule_mechanism(h, n, m)(b[None])
    for k in range(n):
        assert res["scale"][0, k] == pytest.approx(dense_min_ratio(h, b, k, n, m, 1001), rel=1e-9)


def _violation(fn, n=5, m=2):
    pts = convexity.lines(np.random.default_rng(0), 100, n)
    return convexity.star_violation(fn(pts, n, m), pts, m)


@pytest.mark.parametrize("w", [(0.75, 0.0, 0.0, 0.0), (0.3, 1.0, 0.5, 0.1), (1.0, 0.0, 0.0, 0.0)])
def test_screen_accepts_the_family(w):
    assert _violation(star_rule(w)) <= 1e-12


@pytest.mark.parametrize("fn", [
    lambda o, n, m: np.minimum(o[:, m], 0.5),  # another order statistic
    lambda o, n, m: np.minimum(o[:, m - 1], 0.5) + 0.2 * o[:, 0],  # not o_m alone
    lambda o, n, m: 1.0 - o[:, m - 1],  # decreasing
    lambda o, n, m: np.maximum(o[:, m - 1] - 0.3, 0.0),  # g(x) / x increasing (convex: the other screen)
])
def test_screen_rejects_rules_outside_the_family(fn):
    assert _violation(fn) > 1e-6
