"""Generalised medians and their families: every block and composition passes the dense audit,
the rendered code is the trusted rule, and the fit finds the known optimum at K = 1."""

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
from amdlib.problems.facility.sp.member import mechanism
from amdlib.problems.facility.sp.quantile import (FAMILIES, FAMILY_BLOCKS, SCALE_FREE, Composition, Dictator, Quantile,
                                                  _column_costs, fit_all, fit_best, fit_family)

quantile = st.builds(Quantile, st.sampled_from([-4.0, -0.5, 0.0, 1.0, 2.0, 4.0]), st.floats(0.01, 0.99),
                     st.floats(0.0, 0.6), st.floats(0.4, 1.0))
dictator = st.builds(Dictator, st.integers(0, 4), st.floats(0.0, 0.6), st.floats(0.4, 1.0))


@settings(max_examples=12, deadline=None)
@given(st.lists(st.one_of(quantile, dictator), min_size=1, max_size=4), st.sampled_from(["fixed", "3", "none"]),
       st.integers(0, 1000))
def test_any_composition_is_strategyproof_on_a_dense_grid(spec, weights, seed):
    w = resolve_weights(weights, 5)
    peaks = np.random.default_rng(seed).uniform(size=(12, 5))
    audit = audit_mechanism(mechanism(Composition(tuple(spec))), peaks, w, len(spec), 41)
    assert audit["strategyproof_on_grid"], audit["counterexample"]


def test_a_non_generalised_median_fails_the_same_audit():
    """The audit can fail: the weighted mean is manipulable."""
    w = resolve_weights("fixed", 5)
    peaks = np.random.default_rng(1).uniform(size=(12, 5))
    mean = lambda p, w_, k: (p @ (w_ / w_.sum()))[:, None]
    assert not audit_mechanism(mean, peaks, w, 1, 41)["strategyproof_on_grid"]


@pytest.mark.parametrize("family", FAMILIES + (SCALE_FREE,))
def test_each_fitted_family_member_is_strategyproof_and_uses_only_its_blocks(family):
    w = resolve_weights("fixed", 5)
    tr = make_profiles("beta1", 5, 300, 1, 0, "train")
    member = fit_family(tr.peaks, w, 3, family)
    assert len(member.spec.facilities) == 3 and member.family == family
    assert all(f.allowed(FAMILY_BLOCKS[family]) for f in member.spec.facilities)
    te = make_profiles("beta1", 5, 25, 1, 0, "test")
    audit = audit_mechanism(mechanism(member.spec), te.peaks, w, 3, 51)
    assert audit["strategyproof_on_grid"], (family, member.spec, audit["counterexample"])


def test_blocks_allowed_by_a_family():
    assert Quantile(0.0, 0.5).allowed(FAMILY_BLOCKS["percentile"])
    assert not Quantile(1.0, 0.5).allowed(FAMILY_BLOCKS["percentile"])
    assert not Quantile(0.0, 0.5, 0.1, 0.9).allowed(FAMILY_BLOCKS["percentile"])  # phantoms
    assert Quantile(0.0, 0.5, 0.1, 0.9).allowed(FAMILY_BLOCKS["phantom"])
    assert not Dictator(0).allowed(FAMILY_BLOCKS["phantom"]) and Dictator(0).allowed(FAMILY_BLOCKS["dictator_hybrid"])
    assert not Dictator(0, 0.2).allowed(FAMILY_BLOCKS[SCALE_FREE]) and Dictator(0, 0.2).allowed(FAMILY_BLOCKS["composition"])


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
    assert list(fits) == list(FAMILIES)
    best_other = min(m.train_cost for f, m in fits.items() if f != "composition")
    assert fits["composition"].train_cost <= best_other + 1e-12
    assert fits["composition"].train_cost < 0.9 * fit_percentile(tr.peaks, w, 2).train_cost


def test_fit_best_restarts_only_from_members_the_family_may_use():
    w = resolve_weights("fixed", 5)
    tr = make_profiles("uniform", 5, 200, 1, 0, "train").peaks
    clipped = fit_family(tr, w, 2, "phantom")
    assert any((f.lo, f.hi) != (0.0, 1.0) for f in clipped.spec.facilities)
    fresh = fit_family(tr, w, 2, "percentile")
    assert fit_best(tr, w, 2, "percentile", [clipped]) == fresh  # a clipped start is not a percentile member
    restarted = fit_best(tr, w, 2, "composition", [clipped])
    assert restarted.train_cost <= min(clipped.train_cost, fit_family(tr, w, 2, "composition").train_cost) + 1e-12


def test_rendered_code_accepts_any_n():
    spec = Composition((Quantile(1.0, 0.4, 0.1, 0.9), Dictator(0, 0.0, 0.8)))
    ns: dict = {}
    exec("import numpy as np\ndef mechanism(peaks, weights, K):\n    " + spec.body(), ns)
    for n in (3, 7, 40):
        peaks = np.random.default_rng(n).uniform(size=(9, n))
        w = np.ones(n)
        assert np.allclose(ns["mechanism"](peaks, w, 2), spec.locations(peaks, w))
        assert evaluate_mechanism(mechanism(spec), make_profiles("uniform", n, 20, 3, 0, "test"), w, 2).metrics["max_regret"] == 0.0
    assert spec.describe() == ["Quantile(g=1.0, q=0.4, lo=0.1, hi=0.9)", "Dictator(d=0, lo=0.0, hi=0.8)"]


def test_column_costs_match_the_direct_computation():
    rng = np.random.default_rng(0)
    peaks, d_oth, cols = rng.uniform(size=(300, 7)), rng.uniform(size=(300, 7)) * 0.3, rng.uniform(size=(300, 37))
    wn = rng.uniform(0.5, 2.0, size=7)
    wn /= wn.sum()
    direct = [float((np.minimum(d_oth, np.abs(peaks - cols[:, [c]])) @ wn).mean()) for c in range(cols.shape[1])]
    assert np.allclose(_column_costs(d_oth, peaks, cols, wn), direct, rtol=1e-5)
