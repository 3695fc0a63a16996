"""The record: declared params and their ranges, the estimate's plan."""

import pytest

from amdlib.core.experiment import defaults
from amdlib.errors import UserError
from amdlib.experiments.correlated_revenue import EXPERIMENT
from amdlib.pipeline.params import validate


def test_params_are_validated_by_their_declared_ranges():
    p = validate(EXPERIMENT, {"rho": 0.25}, "test")
    assert p["rho"] == 0.25 and p["grid_size"] == 21
    for bad in ({"rho": 1.5}, {"grid_size": 2}, {"sweep_learned": [0.5, 2.0]}, {"regretnet_steps": 0}):
        with pytest.raises(UserError):
            validate(EXPERIMENT, bad, "test")


def test_plan_counts_every_restart_and_each_learned_rho():
    params = {**defaults(EXPERIMENT), "restarts": 3, "sweep_learned": [0.5, 0.25], "nna_evaluations": 9}
    plans = EXPERIMENT.searches(params)
    assert [(p.name, p.times) for p in plans] == [("rho=0.5", 3), ("rho=0.5 nna", 1), ("rho=0.25", 1),
                                                  ("rho=0.25 nna", 1)]
    assert plans[1].overrides == {"max_evaluations": 9}
    assert plans[2].problem.describe()["rho"] == 0.25
    assert plans[0].problem.describe() == EXPERIMENT.make_problem(params).describe()
