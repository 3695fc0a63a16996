"""SP families: every block and composition passes the dense audit, the rendered code is the
trusted rule, and the fit finds the known optimum at K = 1."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amdlib.problems.facility.audit import audit_mechanism
from amdlib.problems.facility.baselines import fit_percentile, nonsp_optimum
from amdlib.problems.facility.costs import social_costs
from amdlib.problems.facility.data import make_profiles, resolve_weights
from amdlib.problems.facility.evaluation import evaluate_mechanism
from amdlib.problems.facility.families import (FAMILIES, Dictator, Quantile, facility_locations, fit_all, fit_family,
                                                mechanism_of, render_body)
from amdlib.problems.facility.anchored import Anchored, anchored_locations, fit_anchored, member_mechanism, render_anchored
from amdlib.problems.facility.harness import harness
from amdlib.problems.facility.problem import FacilityProblem

quantile = st.builds(Quantile, st.sampled_from([-4.0, -0.5, 0.0, 1.0, 2.0, 4.0]), st.floats(0.01, 0.99),
                     st.floats(0.0, 0.6), st.floats(0.4, 1.0))
dictator = st.builds(Dictator, st.integers(0, 4), st.floats(0.0, 0.6), st.floats(0.4, 1.0))


@settings(max_examples=12, deadline=None)
@given(st.lists(st.one_of(quantile, dictator), min_size=1, max_size=4), st.sampled_from(["fixed", "3", "none"]),
       st.integers(0, 1000))
def test_any_composition_is_strategyproof_on_a_dense_grid(spec, weights, seed):
    w = resolve_weights(weights, 5)
    peaks = np.random.default_rng(seed).uniform(size=(12, 5))
    audit = audit_mechanism(mechanism_of(spec), peaks, w, len(spec), 41)
    assert audit["strategyproof_on_grid"], audit["counterexample"]


def test_a_non_generalised_median_fails_the_same_audit():
    """The audit can fail: the weighted mean is manipulable."""
    w = resolve_weights("fixed", 5)
    peaks = np.random.default_rng(1).uniform(size=(12, 5))
    mean = lambda p, w_, k: (p @ (w_ / w_.sum()))[:, None]
    assert not audit_mechanism(mean, peaks, w, 1, 41)["strategyproof_on_grid"]


@pytest.mark.parametrize("family", FAMILIES)
def test_each_fitted_family_member_is_strategyproof(family):
    w = resolve_weights("fixed", 5)
    tr = make_profiles("beta1", 5, 300, 1, 0, "train")
    member = fit_family(tr.peaks, w, 3, family)
    assert len(member.spec) == 3
    te = make_profiles("beta1", 5, 25, 1, 0, "test")
    audit = audit_mechanism(mechanism_of(member.spec), te.peaks, w, 3, 51)
    assert audit["strategyproof_on_grid"], (family, member.spec, audit["counterexample"])


@pytest.mark.parametrize("n", [5, 10])
def test_k1_fit_is_the_weighted_median_and_the_exact_optimum(n):
    """At K = 1 the weighted median is SP and minimises the weighted social cost on every profile."""
    w = resolve_weights("fixed", n)
    tr = make_profiles("uniform", n, 400, 1, 0, "train")
    fits = fit_all(tr.peaks, w, 1)
    opt = social_costs(tr.peaks, nonsp_optimum(tr.peaks, w, 1), w).mean()
    assert fits["weight_replicated"].train_cost == pytest.approx(opt, abs=1e-12)
    assert fits["percentile"].train_cost > opt * 1.05  # the unweighted rule is not optimal with these weights


def test_composition_is_never_worse_and_strictly_better_than_percentile_at_k2():
    w = resolve_weights("fixed", 5)
    tr = make_profiles("uniform", 5, 400, 1, 0, "train")
    fits = fit_all(tr.peaks, w, 2)
    best_other = min(m.train_cost for f, m in fits.items() if f != "composition")
    assert fits["composition"].train_cost <= best_other + 1e-12
    assert fits["composition"].train_cost < 0.9 * fit_percentile(tr.peaks, w, 2).train_cost


@pytest.mark.parametrize("convention", ["vectorized", "per_profile"])
def test_rendered_seed_is_the_fitted_member(convention):
    problem = FacilityProblem(5, 3, "normal", "fixed", n_train=100, n_test=40, n_misreports=3, convention=convention,
                              seed_rule="families")
    best = min(problem.family_fits.values(), key=lambda m: m.train_cost)
    ns: dict = {}
    exec("import numpy as np\n" + problem.seed_program, ns)
    peaks = problem.profiles("holdout").peaks
    got = np.stack([ns["mechanism"](p, problem.weights, 3) for p in peaks]) if convention == "per_profile" \
        else ns["mechanism"](peaks, problem.weights, 3)
    assert np.allclose(got, member_mechanism(best.spec)(peaks, problem.weights, 3))
    ev = problem.score(harness(ns["mechanism"], problem.payload("search")), "search")
    assert ev.metrics["social_cost"] == pytest.approx(best.train_cost) and ev.metrics["max_regret"] == 0.0


def test_rendered_code_accepts_any_n():
    spec = (Quantile(1.0, 0.4, 0.1, 0.9), Dictator(0, 0.0, 0.8))
    ns: dict = {}
    exec("import numpy as np\ndef mechanism(peaks, weights, K):\n    " + render_body(spec), ns)
    for n in (3, 7, 40):
        peaks = np.random.default_rng(n).uniform(size=(9, n))
        w = np.ones(n)
        assert np.allclose(ns["mechanism"](peaks, w, 2), facility_locations(spec, peaks, w))
        assert evaluate_mechanism(mechanism_of(spec), make_profiles("uniform", n, 20, 3, 0, "test"), w, 2).metrics["max_regret"] == 0.0


@settings(max_examples=10, deadline=None)
@given(st.lists(st.floats(0.05, 0.95), min_size=0, max_size=3, unique=True), st.integers(1, 3), st.integers(0, 1000),
       st.data())
def test_anchored_members_are_strategyproof_for_any_constants(edges, free, seed, data):
    bins = tuple(tuple(data.draw(st.one_of(quantile, dictator)) for _ in range(free)) for _ in range(len(edges) + 1))
    member = Anchored(0, tuple(sorted(edges)), bins)
    w = resolve_weights("fixed", 5)
    peaks = np.random.default_rng(seed).uniform(size=(10, 5))
    audit = audit_mechanism(member_mechanism(member), peaks, w, free + 1, 41)
    assert audit["strategyproof_on_grid"], audit["counterexample"]


def test_a_clipped_anchor_is_manipulable_and_the_audit_sees_it():
    """Why the anchor must be unclipped: clip agent 0's facility and it can move the other one."""
    w = resolve_weights("fixed", 5)
    peaks = np.random.default_rng(3).uniform(size=(30, 5))
    member = Anchored(0, (0.5,), ((Quantile(0.0, 0.9),), (Quantile(0.0, 0.1),)))
    def clipped(p, w_, k):
        loc = anchored_locations(member, p, w_)
        loc[:, 0] = np.clip(loc[:, 0], 0.3, 0.7)
        return loc
    assert audit_mechanism(member_mechanism(member), peaks, w, 2, 41)["strategyproof_on_grid"]
    assert not audit_mechanism(clipped, peaks, w, 2, 41)["strategyproof_on_grid"]


def test_anchored_fit_beats_the_composition_and_renders_exactly():
    w = resolve_weights("fixed", 5)
    tr = make_profiles("uniform", 5, 400, 1, 0, "train").peaks
    member, cost, cv = fit_anchored(tr, w, 2)
    assert set(cv) == {1, 2, 4, 6} and cost < fit_all(tr, w, 2)["composition"].train_cost
    ns: dict = {}
    exec("import numpy as np\ndef mechanism(peaks, weights, K):\n    " + render_anchored(member), ns)
    te = make_profiles("uniform", 5, 200, 1, 0, "test").peaks
    assert np.allclose(ns["mechanism"](te, w, 2), anchored_locations(member, te, w))
    assert np.allclose(ns["mechanism"](te[0], w, 2), anchored_locations(member, te[:1], w)[0])  # one profile
