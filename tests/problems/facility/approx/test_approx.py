"""Tests of the approximate families: rendered code equals the trusted rule, fits hold their regret
constraint under the library's own dense audit, epsilon 0 gives the strategy-proof member back."""

from __future__ import annotations

import numpy as np
import pytest

from amdlib.core.sandbox.policy import check_policy
from amdlib.problems.facility.audit import audit_mechanism
from amdlib.problems.facility.data import make_profiles, resolve_weights
from amdlib.problems.facility.sp.member import FittedMember, mechanism
from amdlib.problems.facility.sp.quantile import Composition, Dictator, Quantile, fit_family

from amdlib.problems.facility.approx.audit import AuditSet
from amdlib.problems.facility.approx.counted import CountedAnchored, fit_counted
from amdlib.problems.facility.approx.fit import fit_all, fit_approx
from amdlib.problems.facility.approx.groups import RankGroups, fit_groups
from amdlib.problems.facility.approx.kmedian import KMedian
from amdlib.problems.facility.approx.switch import VoteSwitch, fit_switch

TEMPLATE = "import numpy as np\ndef mechanism(peaks, weights, K):\n    "


def _rendered(member):
    code = TEMPLATE + member.body()
    assert check_policy(code, "mechanism", ("numpy", "math")) is None
    ns: dict = {}
    exec(code, ns)
    return ns["mechanism"]


def _sorted(loc):
    return np.sort(np.asarray(loc, dtype=float), axis=-1)


def _data(n=5, k=2, dist="normal", size=150, seed=3):
    w = resolve_weights("fixed", n)
    return w, make_profiles(dist, n, size, 10, seed, "train").peaks


def _members(w, peaks, k):
    n = peaks.shape[1]
    comp = Composition((Dictator(0),) + tuple(Quantile(float(j % 2), (j + 0.5) / (k - 1), 0.1 * (j % 2), 1.0) for j in range(k - 1)))
    counted = CountedAnchored(0, (0.4, 0.6), n, tuple((Quantile(0.0, 0.1 + 0.8 * (i % n) / n),) * (k - 1) for i in range(3 * n)))
    return [KMedian(k), comp,
            RankGroups(tuple([0.0] + [j / k for j in range(1, k)] + [1.0]), (0.5,) * k, (1.0,) * k),
            counted, VoteSwitch(comp, k, 1, 0.01, 0.002), VoteSwitch(counted, k, 0, None, 0.0)]


@pytest.mark.parametrize("n,k", [(5, 2), (5, 3), (10, 2), (10, 4)])
def test_rendered_code_computes_the_trusted_locations(n, k):
    w, peaks = _data(n, k)
    audit = AuditSet(peaks[:20], w, k, grid=11)  # deviation rows too: reports on grid points, ties
    for member in _members(w, peaks, k):
        fn = _rendered(member)
        # as sets of facilities: the library's composition code lists quantiles before dictators
        assert np.array_equal(_sorted(fn(audit.rows, w, k)), _sorted(member.locations(audit.rows, w))), member.describe()[0]
        assert np.array_equal(np.sort(fn(peaks[0], w, k)), _sorted(member.locations(peaks[:1], w))[0])  # per-profile convention


def test_rank_groups_and_kmedian_accept_another_n():
    w = resolve_weights("none", 7)
    peaks = make_profiles("uniform", 7, 50, 1, 0, "train").peaks
    for member in (RankGroups((0.0, 0.5, 1.0), (0.5, 0.5), (1.0, 1.0)), KMedian(3)):
        assert np.array_equal(_sorted(_rendered(member)(peaks, w, member.locations(peaks, w).shape[1])), _sorted(member.locations(peaks, w)))


@pytest.mark.parametrize("n,k", [(5, 2), (10, 3)])
def test_audit_set_is_the_librarys_dense_audit(n, k):
    w, peaks = _data(n, k, size=40)
    member = VoteSwitch(Composition((Dictator(0), Quantile(0.0, 0.5), Quantile(1.0, 0.9))[:k]), k, 0, None, 0.0)
    audit = AuditSet(peaks, w, k, grid=21)
    ours = audit.regret(audit.locations(member.locations)).max
    theirs = audit_mechanism(mechanism(member), peaks, w, k, 21)["max_regret"]
    assert ours > 0 and ours == pytest.approx(theirs, rel=1e-12, abs=1e-15)


def test_the_figure2_rule_is_manipulable_with_heavy_agents_and_strategyproof_without():
    rule = RankGroups((0.0, 0.5, 1.0), (0.5, 0.5), (1.0, 1.0))
    peaks = make_profiles("uniform", 10, 60, 1, 1, "train").peaks
    heavy = audit_mechanism(mechanism(rule), peaks, resolve_weights("fixed", 10), 2, 51)
    equal = audit_mechanism(mechanism(rule), peaks, resolve_weights("none", 10), 2, 51)
    assert heavy["max_regret"] > 1e-3 and heavy["counterexample"] is not None
    assert equal["max_regret"] == 0.0


@pytest.mark.parametrize("fit", ["counted", "groups", "switch"])
def test_each_fit_holds_its_regret_bound_under_the_librarys_audit(fit):
    n, k, eps = 5, 2, 0.004
    w, peaks = _data(n, k, size=200)
    audit = AuditSet(peaks, w, k, grid=51)
    if fit == "counted":
        got = fit_counted(peaks, w, k, eps, audit)
    elif fit == "groups":
        got = fit_groups(peaks, w, k, eps, audit)
    else:
        sp = fit_family(peaks, w, k, "composition", fixed=[Dictator(0)])
        got = fit_switch(peaks, w, k, eps, audit, [sp.spec])
    assert got is not None
    measured = audit_mechanism(mechanism(got.spec), peaks, w, k, 51)["max_regret"]
    assert measured == pytest.approx(got.train_regret, abs=1e-12)
    assert got.train_regret <= got.train_regret_ucb <= eps


def test_a_looser_epsilon_buys_a_cheaper_rule_than_the_strategy_proof_one():
    n, k = 5, 2
    w, peaks = _data(n, k, size=300)
    sp = fit_family(peaks, w, k, "composition", fixed=[Dictator(0)])
    audit = AuditSet(peaks, w, k, grid=51)
    loose = fit_approx(peaks, w, k, 0.01, sp, audit=audit)
    tight = fit_approx(peaks, w, k, 1e-9, sp, audit=audit)
    assert loose.train_cost < sp.train_cost
    assert tight.train_cost <= sp.train_cost and getattr(tight, "train_regret_ucb", 0.0) <= 1e-9


def test_epsilon_zero_gives_the_strategy_proof_member_or_none():
    w, peaks = _data(5, 2, size=100)
    sp = FittedMember("composition", Composition((Dictator(0), Quantile(0.0, 0.5))), 0.1)
    assert fit_approx(peaks, w, 2, 0.0, sp) is sp
    assert fit_approx(peaks, w, 2, 0.0, None) is None
    assert fit_all(peaks, w, 2, 0.0, sp) == {"sp": sp}


def test_the_problem_seeds_from_the_bounded_regret_families_only_when_asked_and_allowed():
    from amdlib.problems.facility.problem import FacilityProblem

    kw = dict(n_agents=5, n_facilities=2, distribution="beta2", n_train=200, n_test=50, seed=0)
    families = FacilityProblem(seed_rule="families", epsilon=0.002, **kw)
    strict = FacilityProblem(seed_rule="approx", epsilon=0.0, **kw)
    assert families.approx_fits == {} and strict.approx_fits == {}
    assert strict.seed_program == FacilityProblem(seed_rule="families", **kw).seed_program
    loose = FacilityProblem(seed_rule="approx", epsilon=0.002, **kw)
    assert loose.approx_fits and set(loose.seed_fits) == set(loose.family_fits) | set(loose.approx_fits)
    assert all(m.train_regret_ucb <= 0.002 for m in loose.approx_fits.values())
    cheapest = min(loose.seed_fits.values(), key=lambda m: m.train_cost)
    assert cheapest.family in loose.approx_fits and cheapest.spec.body() in loose.seed_program
    assert cheapest.train_cost < min(m.train_cost for m in loose.family_fits.values())
