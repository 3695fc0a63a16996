"""The record: registered as a built-in, declared params and their ranges."""

import pytest

from amdlib.errors import UserError
from amdlib.experiments import BUILTIN, available, get
from amdlib.experiments.multi_item import EXPERIMENT
from amdlib.pipeline.params import validate


def test_registered_as_a_builtin():
    # registered, wherever it sits in the report order (a researcher's experiment may come after it)
    assert "multi_item" in BUILTIN and available()["multi_item"] is EXPERIMENT and get("multi_item") is EXPERIMENT


def test_params_are_validated():
    p = validate(EXPERIMENT, {"distribution": "beta", "beta_a": 3.0}, "test")
    assert p["distribution"] == "beta" and p["menu_grid"] == 51
    for bad in ({"distribution": "normal"}, {"menu_grid": 1}, {"beta_a": 0.0}, {"rochetnet_steps": 0}):
        with pytest.raises(UserError):
            validate(EXPERIMENT, bad, "test")
