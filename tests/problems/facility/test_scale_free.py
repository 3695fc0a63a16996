"""The scale-free members (no phantoms) and the vectorised column scoring of the family fit."""

from __future__ import annotations

import numpy as np
import pytest

from amdlib.problems.facility.anchored import Anchored, fit_members, member_mechanism
from amdlib.problems.facility.audit import audit_mechanism
from amdlib.problems.facility.baselines import fit_percentile
from amdlib.problems.facility.costs import social_costs
from amdlib.problems.facility.data import make_profiles, resolve_weights
from amdlib.problems.facility.families import SCALE_FREE, Dictator, Quantile, _column_costs, fit_family
from amdlib.problems.facility.harness import harness


def _specs(member):
    return [f for spec in member.bins for f in spec] if isinstance(member, Anchored) else list(member)


def test_column_costs_match_the_direct_computation():
    rng = np.random.default_rng(0)
    peaks, d_oth, cols = rng.uniform(size=(300, 7)), rng.uniform(size=(300, 7)) * 0.3, rng.uniform(size=(300, 37))
    wn = rng.uniform(0.5, 2.0, size=7)
    wn /= wn.sum()
    direct = [float((np.minimum(d_oth, np.abs(peaks - cols[:, [c]])) @ wn).mean()) for c in range(cols.shape[1])]
    assert np.allclose(_column_costs(d_oth, peaks, cols, wn), direct, rtol=1e-5)


def test_scale_free_members_have_no_phantoms_and_are_strategyproof():
    w = resolve_weights("fixed", 5)
    tr = make_profiles("uniform", 5, 300, 1, 0, "train").peaks
    members = fit_members(tr, w, 2, scale_free=True)
    assert SCALE_FREE in members and "phantom" not in members and "composition" not in members
    te = make_profiles("beta2", 5, 20, 1, 0, "test").peaks
    assert members["midpoint"].spec.p == 0.5  # the one fixed point: the middle, never fitted
    for name, m in members.items():
        if name != "midpoint":
            assert all((f.lo, f.hi) == (0.0, 1.0) for f in _specs(m.spec)), name
        assert audit_mechanism(member_mechanism(m.spec), te, w, 2, 41)["strategyproof_on_grid"], name
    free = fit_family(tr, w, 2, SCALE_FREE)
    assert all(isinstance(f, (Quantile, Dictator)) and (f.lo, f.hi) == (0.0, 1.0) for f in free.spec)


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
        ratio[scale_free] = social_costs(te, member_mechanism(best.spec)(te, w, 2), w).mean() / ref
    assert ratio[True] < 1.0 < 1.2 < ratio[False]


def test_the_problem_seeds_with_the_scale_free_member_and_names_the_choices():
    from amdlib.errors import UserError
    from amdlib.problems.facility.problem import FacilityProblem

    problem = FacilityProblem(5, 2, "uniform", "fixed", n_train=200, n_test=40, n_misreports=2, seed_rule="scale_free")
    assert "composition" not in problem.family_fits and SCALE_FREE in problem.family_fits
    best = min(problem.family_fits.values(), key=lambda m: m.train_cost)
    ev = problem.score(harness(member_mechanism(best.spec), problem.payload("search")), "search")
    assert ev.metrics["social_cost"] == pytest.approx(best.train_cost) and "mechanism" in problem.seed_program
    with pytest.raises(UserError, match="scale_free"):
        FacilityProblem(5, 2, seed_rule="robust")
