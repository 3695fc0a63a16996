"""The one registry of families: which members each seed set offers, in which order; every member
renders to code that computes its own locations and passes the dense audit; a new family plugs in
by registering; the problem seeds its search with the cheapest member."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from amdlib.errors import UserError
from amdlib.problems.facility.audit import audit_mechanism
from amdlib.problems.facility.baselines import fit_percentile
from amdlib.problems.facility.costs import social_costs
from amdlib.problems.facility.data import make_profiles, resolve_weights
from amdlib.problems.facility.harness import harness
from amdlib.problems.facility.problem import FacilityProblem
from amdlib.problems.facility.sp import registry
from amdlib.problems.facility.sp.anchored import Anchored
from amdlib.problems.facility.sp.member import FittedMember, mean_cost, mechanism
from amdlib.problems.facility.sp.quantile import SCALE_FREE, Composition, Dictator, Quantile, fit_family
from amdlib.problems.facility.sp.registry import Family, fit_members


def _facilities(spec):
    return [f for b in spec.bins for f in b] if isinstance(spec, Anchored) else list(spec.facilities)


@pytest.mark.parametrize("n, k, scale_free, expected", [
    (5, 2, False, ["percentile", "weight_replicated", "weighted_quantile", "phantom", "dictator_hybrid", "composition",
                   "anchored"]),
    (10, 3, False, ["percentile", "weight_replicated", "weighted_quantile", "phantom", "dictator_hybrid", "composition",
                    "anchored", "pair_anchored"]),
    (5, 2, True, ["percentile", "weight_replicated", "weighted_quantile", "dictator_hybrid", SCALE_FREE, "anchored",
                  "midpoint"]),
    (5, 1, True, ["percentile", "weight_replicated", "weighted_quantile", "dictator_hybrid", SCALE_FREE, "midpoint"]),
])
def test_each_seed_set_offers_its_families_in_registry_order(n, k, scale_free, expected):
    w = resolve_weights("fixed", n)
    tr = make_profiles("uniform", n, 150, 1, 0, "train").peaks
    members = fit_members(tr, w, k, scale_free=scale_free)
    assert list(members) == expected
    te = make_profiles("beta1", n, 30, 1, 0, "test").peaks
    for name, m in members.items():
        assert isinstance(m, FittedMember) and m.family == name
        assert m.train_cost == pytest.approx(mean_cost(m.spec, tr, w), abs=1e-12)
        ns: dict = {}
        exec("import numpy as np\ndef mechanism(peaks, weights, K):\n    " + m.spec.body(), ns)
        # the same facilities (rendered code lists a bin's quantiles before its dictators)
        assert np.allclose(np.sort(ns["mechanism"](te, w, k), axis=1), np.sort(m.spec.locations(te, w), axis=1)), name
        assert audit_mechanism(mechanism(m.spec), te[:10], w, k, 31)["strategyproof_on_grid"], name
        assert m.spec.describe() and all(isinstance(line, str) for line in m.spec.describe())


@dataclass(frozen=True)
class Middle:
    """A test family: every facility at one fitted point (SP: it ignores the reports)."""

    point: float
    k: int

    def locations(self, peaks, weights):
        return np.full((peaks.shape[0], self.k), self.point)

    def body(self):
        return f"return np.full(peaks.reshape(-1, peaks.shape[-1]).shape[:1] + ({self.k},), {self.point!r}).reshape(peaks.shape[:-1] + ({self.k},))"

    def describe(self):
        return [repr(self)]


def _fit_middle(c):
    spec = Middle(float(np.median(c.peaks)), c.k)
    return FittedMember("middle", spec, mean_cost(spec, c.peaks, c.weights))


def test_a_new_family_plugs_in_by_registering(monkeypatch):
    monkeypatch.setattr(registry, "REGISTRY", list(registry.REGISTRY))
    registry.register(Family("middle", _fit_middle, seeds=("scale_free",)))
    with pytest.raises(ValueError, match="registered already"):
        registry.register(Family("middle", _fit_middle))
    with pytest.raises(ValueError, match="unknown seed sets"):
        registry.register(Family("other", _fit_middle, seeds=("robust",)))
    w = resolve_weights("none", 5)
    tr = make_profiles("beta2", 5, 100, 1, 0, "train").peaks
    assert "middle" not in fit_members(tr, w, 1)
    members = fit_members(tr, w, 1, scale_free=True)
    assert list(members)[-1] == "middle" and members["middle"].spec == Middle(float(np.median(tr)), 1)
    # The problem renders whichever member is cheapest, its own family unknown to it.
    monkeypatch.setattr(registry, "REGISTRY", [registry.Family("middle", _fit_middle)])
    problem = FacilityProblem(5, 2, "uniform", "none", n_train=60, n_test=20, n_misreports=2, seed_rule="families")
    assert list(problem.family_fits) == ["middle"] and "np.full(" in problem.seed_program
    ev = problem.score(harness(mechanism(problem.family_fits["middle"].spec), problem.payload("search")), "search")
    assert ev.valid and ev.metrics["social_cost"] == pytest.approx(problem.family_fits["middle"].train_cost)


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
    assert np.allclose(got, mechanism(best.spec)(peaks, problem.weights, 3))
    ev = problem.score(harness(ns["mechanism"], problem.payload("search")), "search")
    assert ev.metrics["social_cost"] == pytest.approx(best.train_cost) and ev.metrics["max_regret"] == 0.0


def test_scale_free_members_have_no_phantoms_and_are_strategyproof():
    w = resolve_weights("fixed", 5)
    tr = make_profiles("uniform", 5, 300, 1, 0, "train").peaks
    members = fit_members(tr, w, 2, scale_free=True)
    assert SCALE_FREE in members and "phantom" not in members and "composition" not in members
    te = make_profiles("beta2", 5, 20, 1, 0, "test").peaks
    assert members["midpoint"].spec.p == 0.5  # the one fixed point: the middle, never fitted
    for name, m in members.items():
        if name != "midpoint":
            assert all((f.lo, f.hi) == (0.0, 1.0) for f in _facilities(m.spec)), name
        assert audit_mechanism(mechanism(m.spec), te, w, 2, 41)["strategyproof_on_grid"], name
    free = fit_family(tr, w, 2, SCALE_FREE)
    assert isinstance(free.spec, Composition)
    assert all(isinstance(f, (Quantile, Dictator)) and (f.lo, f.hi) == (0.0, 1.0) for f in free.spec.facilities)


def test_scale_free_seed_transfers_to_skewed_peaks_where_the_phantom_one_does_not():
    """Learned on uniform peaks (n = 5, K = 2, Table 1's weights), scored on Beta(9, 1) peaks against
    the percentile rule fitted there: the phantom-carrying best member falls far behind, the
    scale-free one stays ahead. The choice of either uses uniform profiles only."""
    w = resolve_weights("fixed", 5)
    tr = make_profiles("uniform", 5, 1000, 1, 0, "train").peaks
    te = make_profiles("beta2", 5, 2000, 1, 0, "test").peaks
    per = fit_percentile(make_profiles("beta2", 5, 1000, 1, 0, "train").peaks, w, 2).fn
    ref = social_costs(te, per(te, w, 2), w).mean()
    ratio = {}
    for scale_free in (False, True):
        best = min(fit_members(tr, w, 2, scale_free=scale_free).values(), key=lambda m: m.train_cost)
        ratio[scale_free] = social_costs(te, mechanism(best.spec)(te, w, 2), w).mean() / ref
    assert ratio[True] < 1.0 < 1.2 < ratio[False]


def test_the_problem_seeds_with_the_scale_free_member_and_names_the_choices():
    problem = FacilityProblem(5, 2, "uniform", "fixed", n_train=200, n_test=40, n_misreports=2, seed_rule="scale_free")
    assert "composition" not in problem.family_fits and SCALE_FREE in problem.family_fits
    best = min(problem.family_fits.values(), key=lambda m: m.train_cost)
    ev = problem.score(harness(mechanism(best.spec), problem.payload("search")), "search")
    assert ev.metrics["social_cost"] == pytest.approx(best.train_cost) and "mechanism" in problem.seed_program
    with pytest.raises(UserError, match="scale_free"):
        FacilityProblem(5, 2, seed_rule="robust")
