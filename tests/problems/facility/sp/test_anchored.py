"""The anchored family: SP for any constants, the audit catches a clipped anchor, the fit beats
the plain composition on training profiles, and the rendered code is the trusted rule."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from amdlib.problems.facility.audit import audit_mechanism
from amdlib.problems.facility.data import make_profiles, resolve_weights
from amdlib.problems.facility.sp.anchored import BIN_CHOICES, Anchored, fit_anchored
from amdlib.problems.facility.sp.member import mechanism
from amdlib.problems.facility.sp.quantile import Dictator, Quantile, fit_all

quantile = st.builds(Quantile, st.sampled_from([-4.0, -0.5, 0.0, 1.0, 2.0, 4.0]), st.floats(0.01, 0.99),
                     st.floats(0.0, 0.6), st.floats(0.4, 1.0))
dictator = st.builds(Dictator, st.integers(0, 4), st.floats(0.0, 0.6), st.floats(0.4, 1.0))


@settings(max_examples=10, deadline=None)
@given(st.lists(st.floats(0.05, 0.95), min_size=0, max_size=3, unique=True), st.integers(1, 3), st.integers(0, 1000),
       st.data())
def test_anchored_members_are_strategyproof_for_any_constants(edges, free, seed, data):
    bins = tuple(tuple(data.draw(st.one_of(quantile, dictator)) for _ in range(free)) for _ in range(len(edges) + 1))
    member = Anchored(0, tuple(sorted(edges)), bins)
    w = resolve_weights("fixed", 5)
    peaks = np.random.default_rng(seed).uniform(size=(10, 5))
    audit = audit_mechanism(mechanism(member), peaks, w, free + 1, 41)
    assert audit["strategyproof_on_grid"], audit["counterexample"]


def test_a_clipped_anchor_is_manipulable_and_the_audit_sees_it():
    """Why the anchor must be unclipped: clip agent 0's facility and it can move the other one."""
    w = resolve_weights("fixed", 5)
    peaks = np.random.default_rng(3).uniform(size=(30, 5))
    member = Anchored(0, (0.5,), ((Quantile(0.0, 0.9),), (Quantile(0.0, 0.1),)))

    def clipped(p, w_, k):
        loc = member.locations(p, w_)
        loc[:, 0] = np.clip(loc[:, 0], 0.3, 0.7)
        return loc

    assert audit_mechanism(mechanism(member), peaks, w, 2, 41)["strategyproof_on_grid"]
    assert not audit_mechanism(clipped, peaks, w, 2, 41)["strategyproof_on_grid"]


def test_anchored_fit_beats_the_composition_and_renders_exactly():
    w = resolve_weights("fixed", 5)
    tr = make_profiles("uniform", 5, 400, 1, 0, "train").peaks
    member, cost, cv = fit_anchored(tr, w, 2)
    assert set(cv) == set(BIN_CHOICES) and cost < fit_all(tr, w, 2)["composition"].train_cost
    ns: dict = {}
    exec("import numpy as np\ndef mechanism(peaks, weights, K):\n    " + member.body(), ns)
    te = make_profiles("uniform", 5, 200, 1, 0, "test").peaks
    assert np.allclose(ns["mechanism"](te, w, 2), member.locations(te, w))
    assert np.allclose(ns["mechanism"](te[0], w, 2), member.locations(te[:1], w)[0])  # one profile
    assert np.array_equal(member.locations(te, w)[:, 0], te[:, 0])  # the anchor, unclipped
    assert member.describe() == [repr(member)] and repr(member).startswith("Anchored(d=0, edges=")
