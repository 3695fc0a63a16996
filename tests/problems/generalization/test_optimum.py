"""The exact DPs agree with Experiment 4's brute force and with closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from amdlib.problems.facility.baselines import fit_percentile, nonsp_optimum
from amdlib.problems.facility.costs import social_costs
from amdlib.problems.generalization.optimum import fit_percentile_dp, kmedian_dp, nonsp_cost


@pytest.mark.parametrize("n", [5, 7])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_dps_match_brute_force(n, weighted, k):
    rng = np.random.default_rng(100 * n + k)
    peaks = rng.beta(2.0, 5.0, size=(300, n))
    w = rng.integers(1, 6, n).astype(float) if weighted else np.ones(n)
    brute, dp = fit_percentile(peaks, w, k), fit_percentile_dp(peaks, w, k)
    assert dp.train_cost == pytest.approx(brute.train_cost, abs=1e-12)
    assert social_costs(peaks, dp.fn(peaks, w, k), w).mean() == pytest.approx(dp.train_cost, abs=1e-12)
    exact = social_costs(peaks, nonsp_optimum(peaks, w, k), w).mean()
    assert nonsp_cost(peaks, w, k) == pytest.approx(exact, abs=1e-12)


def test_closed_forms_at_larger_n():
    # uniform, n = 25, K = 1: median rule = optimum, expected cost 12 * 13 / (26 * 25) = 0.24
    peaks = np.random.default_rng(0).uniform(size=(4000, 25))
    w = np.ones(25)
    rule = fit_percentile_dp(peaks, w, 1)
    assert rule.choice == (12,)
    assert nonsp_cost(peaks, w, 1) == pytest.approx(rule.train_cost, abs=1e-12)
    assert rule.train_cost == pytest.approx(0.24, abs=0.004)


def test_kmedian_beats_percentile_and_handles_k_ge_n():
    peaks = np.random.default_rng(1).uniform(size=(50, 200))
    w = np.ones(200)
    rule = fit_percentile_dp(peaks, w, 3)
    assert nonsp_cost(peaks, w, 3) < rule.train_cost
    q = np.asarray(rule.choice) / 199  # about the quantiles 1/6, 1/2, 5/6 of uniform peaks
    assert 0.1 < q[0] < 0.25 and abs(q[1] - 0.5) < 0.05 and 0.75 < q[2] < 0.9
    small = np.array([[0.1, 0.7, 0.4]])
    assert np.allclose(np.sort(kmedian_dp(small, np.ones(3), 4)[0, :3]), [0.1, 0.4, 0.7])
    assert fit_percentile_dp(small, np.ones(3), 5).train_cost == 0.0
