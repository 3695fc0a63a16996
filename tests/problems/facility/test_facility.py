"""Facility location: data, costs, baselines, audit, harness/score."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amdlib.errors import UserError
from amdlib.problems.facility.audit import audit_mechanism
from amdlib.problems.facility.baselines import fit_constant, fit_dictatorial, fit_percentile, nonsp_optimum, nonsp_rule, percentile_rule
from amdlib.problems.facility.costs import social_costs
from amdlib.problems.facility.data import make_profiles, resolve_weights
from amdlib.problems.facility.evaluation import evaluate_mechanism, fitness
from amdlib.problems.facility.harness import deviation_profiles, harness
from amdlib.problems.facility.problem import FacilityProblem


def test_weights_specs():
    assert resolve_weights("fixed", 5).tolist() == [5, 1, 1, 1, 1]
    assert resolve_weights("fixed", 10).tolist() == [5, 5] + [1] * 8
    assert resolve_weights("4", 5).tolist() == [5, 2, 1, 1, 1]
    assert resolve_weights("5,1,2,1,1", 5).tolist() == [5, 1, 2, 1, 1]
    for bad in ("fixed", "11", "1,2", "x"):
        with pytest.raises(UserError):
            resolve_weights(bad, 7 if bad == "fixed" else 5)


def test_profiles_deterministic_and_in_range():
    a = make_profiles("normal", 5, 100, 10, 3, "train")
    b = make_profiles("normal", 5, 100, 10, 3, "train")
    c = make_profiles("normal", 5, 100, 10, 3, "test")
    assert np.array_equal(a.peaks, b.peaks) and not np.array_equal(a.peaks, c.peaks)
    assert a.misreports.shape == (100, 10, 5) and a.peaks.min() >= 0 and a.peaks.max() <= 1


def test_deviation_profiles_replace_one_agent():
    peaks = np.arange(6.0).reshape(2, 3)
    mis = np.arange(100.0, 112.0).reshape(2, 2, 3)
    dev = deviation_profiles(peaks, mis).reshape(3, 2, 2, 3)
    for i in range(3):
        for j in range(2):
            for b in range(2):
                expected = peaks[b].copy()
                expected[i] = mis[b, j, i]
                assert np.array_equal(dev[i, j, b], expected)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 7), st.integers(1, 4), st.integers(0, 10_000))
def test_nonsp_dp_matches_brute_force(n, k, seed):
    rng = np.random.default_rng(seed)
    peaks, w = rng.uniform(size=(20, n)), rng.integers(1, 6, n).astype(float)
    dp = social_costs(peaks, nonsp_optimum(peaks, w, k), w)
    sets = combinations(range(n), min(k, n))
    brute = np.min([social_costs(peaks, peaks[:, list(s)], w) for s in sets], axis=0)
    assert np.allclose(dp, brute, atol=1e-12)


def test_uniform_references_unweighted_n5():
    """Spec's exact references (1000 test profiles: within about 3%)."""
    w = resolve_weights("none", 5)
    tr, te = make_profiles("uniform", 5, 1000, 10, 0, "train"), make_profiles("uniform", 5, 1000, 10, 0, "test")
    cost = lambda f, k: evaluate_mechanism(f, te, w, k).metrics["social_cost"]
    assert cost(fit_percentile(tr.peaks, w, 1).fn, 1) == pytest.approx(0.2, rel=0.03)
    assert cost(fit_dictatorial(tr.peaks, w, 1).fn, 1) == pytest.approx(4 / 15, rel=0.03)
    assert cost(fit_constant(tr.peaks, w, 1).fn, 1) == pytest.approx(41 / 162, rel=0.03)
    p2 = fit_percentile(tr.peaks, w, 2)
    assert p2.choice == (1, 3) and cost(p2.fn, 2) == pytest.approx(1 / 12, rel=0.03)
    assert cost(nonsp_rule(), 2) == pytest.approx(0.07088, rel=0.03)
    assert cost(nonsp_rule(), 4) == pytest.approx(1 / 120, rel=0.06)


def test_rules_sp_and_nonsp_manipulable():
    w = resolve_weights("fixed", 5)
    te = make_profiles("uniform", 5, 60, 10, 0, "test")
    ev = evaluate_mechanism(percentile_rule((1, 3)), te, w, 2)
    assert ev.valid and ev.metrics["max_regret"] == 0.0
    assert audit_mechanism(percentile_rule((1, 3)), te.peaks, w, 2, 41)["strategyproof_on_grid"]
    audit = audit_mechanism(nonsp_rule(), te.peaks, w, 2, 41)
    cx = audit["counterexample"]
    assert audit["max_regret"] > 0 and cx["gain"] > 0
    assert cx["truthful_cost"] - cx["misreport_cost"] == pytest.approx(cx["gain"], abs=1e-5)


def test_fitness_eq2():
    assert fitness(0.1, 0.0, 0.0) == 0.1
    assert fitness(0.1, 0.002, 0.001) == pytest.approx(1.002)
    assert fitness(0.1, 0.001, 0.001) == 0.1


def test_score_rejects_bad_candidates():
    problem = FacilityProblem(5, 2, "uniform", "fixed", n_train=50, n_test=50)
    payload = problem.payload("search")
    good = harness(lambda p, w, k: np.sort(p, axis=1)[:, [1, 3]], payload)
    assert problem.score(good, "search").valid
    assert not problem.score({**good, "loc": good["loc"][:, :1]}, "search").valid
    nan = {**good, "loc": np.full_like(good["loc"], np.nan)}
    assert "non-finite" in problem.score(nan, "search").error
    mixing = harness(lambda p, w, k: np.repeat(p.mean(axis=0, keepdims=True)[:, :k], p.shape[0], axis=0), payload)
    assert "independent" in problem.score(mixing, "search").error


def test_seed_and_grammar_programs_run_any_n():
    for n in (3, 5, 10):
        problem = FacilityProblem(n, 2, "beta1", "none", n_train=30, n_test=30, seed_rule="constant")
        for expr in ("np.full((peaks.shape[0], K), 0.5)",) + problem.grammar.expressions:
            ns: dict = {}
            exec("import numpy as np\n" + problem.seed_program.replace("np.full((peaks.shape[0], K), 0.5)", expr), ns)
            ev = problem.score(harness(ns["mechanism"], problem.payload("search")), "search")
            assert ev.valid, (expr, ev.error)
            assert ev.metrics["max_regret"] == 0.0  # every building block is SP


@pytest.mark.parametrize("convention", ["vectorized", "per_profile"])
def test_percentile_seed_is_the_best_percentile_rule(convention):
    problem = FacilityProblem(5, 3, "normal", "fixed", n_train=200, n_test=100, convention=convention)
    fit = fit_percentile(problem.profiles("search").peaks, problem.weights, 3)
    ns: dict = {}
    exec("import numpy as np\n" + problem.seed_program, ns)
    peaks = problem.profiles("holdout").peaks
    got = np.stack([ns["mechanism"](p, problem.weights, 3) for p in peaks]) if convention == "per_profile" \
        else ns["mechanism"](peaks, problem.weights, 3)
    assert np.array_equal(got, fit.fn(peaks, problem.weights, 3))
    ev = problem.score(harness(ns["mechanism"], problem.payload("search")), "search")
    assert ev.metrics["social_cost"] == pytest.approx(problem.percentile_reference) and ev.metrics["max_regret"] == 0.0
    with pytest.raises(UserError):
        FacilityProblem(5, 3, seed_rule="median")


def test_per_profile_convention_matches_vectorized():
    te = make_profiles("uniform", 5, 40, 5, 1, "test")
    w = resolve_weights("fixed", 5)
    vec = evaluate_mechanism(lambda p, w_, k: np.sort(p, axis=1)[:, [0, 4]], te, w, 2)
    per = evaluate_mechanism(lambda p, w_, k: np.sort(p)[[0, 4]], te, w, 2, per_profile=True)
    assert vec.metrics == per.metrics


def test_moulinnet_is_strategyproof_after_training():
    torch = pytest.importorskip("torch")
    from amdlib.problems.facility.neural import TrainConfig, train

    tr = make_profiles("uniform", 4, 100, 3, 0, "train")
    w = resolve_weights("none", 4)
    assert torch.get_num_threads() >= 1
    untrained = train("moulinnet", tr, w, 2, TrainConfig(epochs=1, restarts=1, lr=1e-6))
    t = train("moulinnet", tr, w, 2, TrainConfig(epochs=4, restarts=1, lr=0.1))
    # training must help: better than the near-untrained net and than the best two constant points
    assert t.train_cost < 0.9 * untrained.train_cost
    assert t.train_cost < fit_constant(tr.peaks, w, 2).train_cost
    assert audit_mechanism(t.fn, tr.peaks[:20], w, 2, 21)["strategyproof_on_grid"]


@settings(max_examples=60)
@given(st.integers(2, 8), st.integers(1, 5), st.sampled_from(["uniform", "beta1", "normal"]), st.integers(0, 10_000),
       st.booleans())
def test_the_constant_rules_dp_finds_the_brute_force_optimum(n, k, dist, seed, weighted):
    from amdlib.problems.facility import baselines

    peaks = make_profiles(dist, n, 60, 1, seed, "train").peaks
    w = np.random.default_rng(seed).integers(1, 6, n).astype(float) if weighted else np.ones(n)
    grid = baselines.constant_grid(n)
    k = min(k, grid.size - 1)
    brute = fit_constant(peaks, w, k)  # brute force at these sizes
    dp = baselines._best_points_dp(grid, peaks, w, k)
    assert len(set(dp)) == k and list(dp) == sorted(dp)
    cost = float(social_costs(peaks, baselines.constant_rule(tuple(grid[list(dp)]))(peaks, w, k), w / w.sum()).mean())
    assert cost == pytest.approx(brute.train_cost, rel=1e-9, abs=1e-12)


def test_the_constant_rule_beyond_brute_force_takes_the_dp(monkeypatch):
    from amdlib.problems.facility import baselines

    peaks = make_profiles("beta2", 9, 200, 1, 3, "train").peaks
    w = np.ones(9)
    brute = fit_constant(peaks, w, 4)  # C(18, 4) = 3060 point sets
    monkeypatch.setattr(baselines, "CONSTANT_BRUTE_FORCE_MAX", 100)
    fast = fit_constant(peaks, w, 4)
    assert fast.train_cost == pytest.approx(brute.train_cost, rel=1e-12) and fast.choice == brute.choice
    assert fast.fn(peaks, w, 4).shape == (200, 4)
