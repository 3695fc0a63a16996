"""Epsilon from the trained RegretNet (LLMMech App. E): measured, cached, used by the fitness, validated."""

from __future__ import annotations

import pytest

from amdlib.errors import UserError
from amdlib.experiments.facility_location import run as fr
from amdlib.experiments import get
from amdlib.pipeline.params import load_params, validate
from amdlib.problems.facility.epsilon import regretnet_setup
from amdlib.problems.facility.evaluation import evaluate_mechanism
from amdlib.problems.facility.neural import train
from tests.conftest import REPO

SMALL = {"n_train": 100, "n_test": 100, "regretnet_train": 100, "regretnet_epochs": 1, "regretnet_restarts": 2,
         "audit_profiles": 10, "audit_grid": 11, "n_agents": 3, "n_facilities": 2, "weights": "none"}


def test_epsilon_is_the_trained_regretnets_regret_and_the_fitness_uses_it(tmp_path) -> None:
    params = validate(get("facility_location"), {**SMALL, "epsilon_source": "regretnet"}, "test")
    eps = fr.resolve_epsilon(params, tmp_path)
    problem = fr.make_problem(params, epsilon=eps["epsilon"])
    cfg, data = regretnet_setup(problem, params)
    net = train("regretnet", data, problem.weights, problem.k, cfg, tmp_path)
    assert net.cached  # the baseline reuses the very network the epsilon came from
    measured = evaluate_mechanism(net.fn, problem.profiles("search"), problem.weights, problem.k).metrics
    assert eps["source"] == "regretnet" and eps["epsilon"] == measured["max_regret"] > 0
    assert eps["regretnet_dense_audit_max_regret"] >= 0 and eps["restarts"] == 2 and eps["train_profiles"] == 100
    # Within epsilon the network's fitness is its social cost; at epsilon 0 it is penalised above 1.
    within = evaluate_mechanism(net.fn, problem.profiles("search"), problem.weights, problem.k, problem.epsilon)
    assert within.metrics["fitness"] == pytest.approx(measured["social_cost"])
    strict = evaluate_mechanism(net.fn, problem.profiles("search"), problem.weights, problem.k, 0.0)
    assert strict.metrics["fitness"] > 1.0
    assert f"at most {problem.epsilon:g}" in problem.task and problem.describe()["epsilon"] == eps["epsilon"]
    assert fr.resolve_epsilon(params, tmp_path) == {**eps, "cached": True}  # same network, same epsilon


def test_value_source_and_conflicting_settings() -> None:
    exp = get("facility_location")
    assert fr.resolve_epsilon(validate(exp, {"epsilon": 0.002}, "t")) == {"source": "value", "epsilon": 0.002}
    with pytest.raises(UserError, match="set epsilon to 0 or epsilon_source to value"):
        fr.resolve_epsilon(validate(exp, {**SMALL, "epsilon_source": "regretnet", "epsilon": 0.01}, "t"))
    with pytest.raises(UserError, match="epsilon_source: expected one of 'value', 'regretnet'"):
        validate(exp, {"epsilon_source": "moulinnet"}, "t")


def test_paper_yaml_takes_epsilon_from_regretnet() -> None:
    params = load_params(get("facility_location"), REPO / "params/facility_location/paper.yaml")
    assert params["epsilon_source"] == "regretnet" and params["epsilon"] == 0.0
    assert (params["regretnet_epochs"], params["regretnet_restarts"], params["regretnet_train"]) == (1000, 10, 1000)
