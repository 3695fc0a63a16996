"""The pair-anchored family: SP for any constants (dense audit), the audit catches a clipped
anchor, the fit beats the plain composition on training profiles, and the rendered code is the
trusted rule."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from amdlib.problems.facility.audit import audit_mechanism
from amdlib.problems.facility.data import make_profiles, resolve_weights
from amdlib.problems.facility.sp.member import mechanism
from amdlib.problems.facility.sp.pair_anchored import PAIR_BIN_CHOICES, PairAnchored, fit_pair_anchored, pair_anchors
from amdlib.problems.facility.sp.quantile import Dictator, Quantile, fit_all
from amdlib.problems.facility.sp.registry import fit_members

W10 = resolve_weights("fixed", 10)
quantile = st.builds(Quantile, st.sampled_from([-4.0, 0.0, 1.0, 2.0]), st.floats(0.01, 0.99), st.floats(0.0, 0.6),
                     st.floats(0.4, 1.0))
dictator = st.builds(Dictator, st.integers(2, 9), st.floats(0.0, 0.6), st.floats(0.4, 1.0))
edges = st.lists(st.floats(0.05, 0.95), min_size=0, max_size=2, unique=True).map(lambda e: tuple(sorted(e)))


@settings(max_examples=10, deadline=None)
@given(edges, edges, st.integers(1, 2), st.integers(0, 1000), st.data())
def test_pair_anchored_members_are_strategyproof_for_any_constants(lo, hi, free, seed, data):
    nbins = (len(lo) + 1) * (len(hi) + 1)
    bins = tuple(tuple(data.draw(st.one_of(quantile, dictator)) for _ in range(free)) for _ in range(nbins))
    member = PairAnchored(0, 1, lo, hi, bins)
    peaks = np.random.default_rng(seed).uniform(size=(8, 10))
    audit = audit_mechanism(mechanism(member), peaks, W10, free + 2, 41)
    assert audit["strategyproof_on_grid"], audit["counterexample"]


def test_a_clipped_second_anchor_is_manipulable_and_the_audit_sees_it():
    """Why both anchors must be unclipped: clip agent 1's facility and it can move the bin."""
    member = PairAnchored(0, 1, (0.5,), (0.5,), ((Quantile(0.0, 0.95),), (Quantile(0.0, 0.05),), (Quantile(0.0, 0.95),),
                                                 (Quantile(0.0, 0.05),)))

    def clipped(p, w_, k):
        loc = member.locations(p, w_)
        loc[:, 1] = np.clip(loc[:, 1], 0.3, 0.7)
        return loc

    peaks = np.random.default_rng(3).uniform(size=(30, 10))
    assert audit_mechanism(mechanism(member), peaks, W10, 3, 41)["strategyproof_on_grid"]
    assert not audit_mechanism(clipped, peaks, W10, 3, 41)["strategyproof_on_grid"]


def test_pair_anchored_fit_beats_the_composition_and_renders_exactly():
    tr = make_profiles("beta1", 10, 600, 1, 0, "train").peaks
    member, cost, cv = fit_pair_anchored(tr, W10, 3)
    assert set(cv) == set(PAIR_BIN_CHOICES) and min(cv.values()) < cv[1]
    assert cost < 0.97 * fit_all(tr, W10, 3)["composition"].train_cost
    ns: dict = {}
    exec("import numpy as np\ndef mechanism(peaks, weights, K):\n    " + member.body(), ns)
    te = make_profiles("beta1", 10, 300, 1, 0, "test").peaks
    assert np.allclose(ns["mechanism"](te, W10, 3), member.locations(te, W10))
    assert np.allclose(ns["mechanism"](te[0], W10, 3), member.locations(te[:1], W10)[0])  # one profile
    assert np.array_equal(member.locations(te, W10)[:, :2], te[:, :2])  # the anchors, unclipped


def test_the_family_applies_only_to_two_tied_heaviest_agents_and_k_at_least_3():
    assert pair_anchors(W10) == (0, 1) and pair_anchors(resolve_weights("fixed", 5)) is None
    tr5 = make_profiles("uniform", 5, 200, 1, 0, "train").peaks
    tr10 = make_profiles("uniform", 10, 200, 1, 0, "train").peaks
    assert "pair_anchored" not in fit_members(tr5, resolve_weights("fixed", 5), 3)
    assert "pair_anchored" not in fit_members(tr10, W10, 2)
    assert "pair_anchored" not in fit_members(tr10, W10, 3, scale_free=True)
    assert "pair_anchored" in fit_members(tr10, W10, 3)
