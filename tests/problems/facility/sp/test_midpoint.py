"""Facilities at order statistics of the reports and the middle of the peak space (facility.sp.midpoint)."""

from __future__ import annotations

import numpy as np
import pytest

from amdlib.problems.facility.audit import audit_mechanism
from amdlib.problems.facility.costs import social_costs
from amdlib.problems.facility.data import make_profiles, resolve_weights
from amdlib.problems.facility.harness import locations
from amdlib.problems.facility.sp.member import mechanism
from amdlib.problems.facility.sp.midpoint import Midpoint, fit_midpoint


@pytest.mark.parametrize("spec", [Midpoint(0.5, (0.25, 0.75)), Midpoint(0.3, (0.1, 0.5, 0.9)), Midpoint(0.9, (0.6,))])
def test_members_are_strategyproof_on_a_dense_grid(spec: Midpoint) -> None:
    w = resolve_weights("fixed", 5)
    peaks = make_profiles("beta1", 5, 25, 1, 3, "test").peaks
    audit = audit_mechanism(mechanism(spec), peaks, w, len(spec.levels), 51)
    assert audit["strategyproof_on_grid"] and audit["max_regret"] == 0.0


def test_a_mean_of_reports_fails_the_same_audit() -> None:
    # The audit can fail: the mean of the reports is manipulable.
    w = resolve_weights("none", 5)
    peaks = make_profiles("uniform", 5, 25, 1, 3, "test").peaks
    mean = lambda p, _w, _k: np.asarray(p).mean(axis=1, keepdims=True)  # noqa: E731
    assert not audit_mechanism(mean, peaks, w, 1, 51)["strategyproof_on_grid"]


def test_locations_are_order_statistics_of_the_reports_and_the_point() -> None:
    peaks = np.array([[0.1, 0.2, 0.3, 0.4, 0.45], [0.6, 0.7, 0.8, 0.9, 0.95], [0.1, 0.9, 0.2, 0.8, 0.5]])
    loc = Midpoint(0.5, (0.25, 0.75)).locations(peaks)
    # Positions 1 and 4 of the six points: below the point, the 2nd and 5th reports; above it,
    # the 1st and 4th; at any n the levels pick floor(q * (n + 1)).
    assert loc.tolist() == [[0.2, 0.45], [0.6, 0.9], [0.2, 0.8]]


def test_the_fit_picks_the_adaptive_pair_on_uniform_peaks_and_it_transfers() -> None:
    w = resolve_weights("none", 5)
    train = make_profiles("uniform", 5, 4000, 1, 0, "train").peaks
    member = fit_midpoint(train, w, 2)
    assert member is not None and member.spec == Midpoint(0.5, (0.25, 0.75))
    # On peaks piled up at either end it costs what that law's own best percentile rule costs.
    for law, best in (("beta1", (1, 4)), ("beta2", (0, 3))):
        test = make_profiles(law, 5, 4000, 1, 1, "test").peaks
        ours = social_costs(test, member.spec.locations(test, w), w).mean()
        own = social_costs(test, np.sort(test, axis=1)[:, list(best)], w).mean()
        assert ours <= 1.02 * own, law


def test_rendered_code_computes_the_same_locations_for_any_n() -> None:
    spec = Midpoint(0.5, (0.25, 0.75))
    ns: dict = {}
    exec("import numpy as np\ndef mechanism(peaks, weights, K):\n    " + spec.body(), ns)
    for n in (5, 12):
        peaks = make_profiles("uniform", n, 50, 1, 2, "test").peaks
        w = resolve_weights("none", n)
        out = locations(ns["mechanism"], {"peaks": peaks, "weights": w, "K": np.array([2])})
        assert np.array_equal(out["loc"], spec.locations(peaks, w))


def test_too_many_subsets_fit_nothing() -> None:
    peaks = make_profiles("uniform", 30, 20, 1, 0, "train").peaks
    assert fit_midpoint(peaks, resolve_weights("none", 30), 4) is None
