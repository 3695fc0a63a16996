"""The toy problem: payloads, harness and scoring (no sandbox needed)."""

from __future__ import annotations

import numpy as np
import pytest

from amdlib.problems.toy import ToyProblem, harness


def test_payloads_are_deterministic_and_cached():
    toy = ToyProblem(n_points=16, n_holdout=50, seed=3)
    x = toy.payload("search")["x"]
    np.testing.assert_allclose(x, np.linspace(0, 1, 16))
    h1 = ToyProblem(seed=3, n_holdout=50).payload("holdout")["x"]
    h2 = ToyProblem(seed=3, n_holdout=50).payload("holdout")["x"]
    np.testing.assert_array_equal(h1, h2)
    assert h1.shape == (50,) and np.all((h1 >= 0) & (h1 <= 1)) and np.all(np.diff(h1) >= 0)
    assert not np.array_equal(h1, ToyProblem(seed=4, n_holdout=50).payload("holdout")["x"])
    assert toy.payload("search") is toy.payload("search")
    with pytest.raises(ValueError):
        toy.payload("train")


def test_seed_scores_minus_mean_square_of_target():
    toy = ToyProblem(n_points=101)
    x = np.linspace(0, 1, 101)
    ev = toy.score(harness(lambda x: np.zeros_like(x), toy.payload("search")), "search")
    assert ev.valid
    assert ev.score == pytest.approx(-np.mean((1.5 * x - 0.5) ** 2))
    assert ev.score == pytest.approx(-0.25, abs=0.01)  # the integral over [0, 1] is 1/4
    assert "largest error 1.0000 at x=1.000 (prediction too low)" in ev.diagnostics


def test_exact_target_scores_zero_and_scalar_broadcasts():
    toy = ToyProblem()
    exact = toy.score(harness(lambda x: x - (1 - x) / 2, toy.payload("search")), "search")
    assert exact.valid and exact.score == 0.0 and exact.metrics["max_abs_error"] == 0.0
    scalar = toy.score(harness(lambda x: 0.25, toy.payload("search")), "search")
    x = toy.payload("search")["x"]
    assert scalar.valid and scalar.score == pytest.approx(-np.mean((0.25 - (1.5 * x - 0.5)) ** 2))


def test_invalid_outputs_are_rejected_with_reasons():
    toy = ToyProblem(n_points=8)
    assert toy.score({"y": np.ones(3)}, "search").error.startswith("output: shape (3,)")
    bad = toy.score({"y": np.full(8, np.nan)}, "search")
    assert not bad.valid and bad.error == "output: non-finite predictions" and bad.score == -np.inf
    assert toy.score({}, "search").error == "output: missing 'y'"


def test_harness_does_not_let_the_candidate_change_the_payload():
    toy = ToyProblem(n_points=8)

    def vandal(x):
        x[:] = 5.0
        return x

    harness(vandal, toy.payload("search"))
    np.testing.assert_allclose(toy.payload("search")["x"], np.linspace(0, 1, 8))


def test_smooth_target_and_errors():
    toy = ToyProblem(target="smooth")
    x = np.array([0.0, 0.5])
    np.testing.assert_allclose(toy.target_values(x), np.sin(3 * x) * x)
    with pytest.raises(ValueError):
        ToyProblem(target="cubic")
    assert toy.describe() == {"problem": "toy", "target": "smooth", "n_points": 64}
