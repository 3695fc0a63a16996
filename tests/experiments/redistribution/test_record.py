"""The record: declared params match the notebook, the settings check, the estimate's plan."""

from pathlib import Path

import nbformat

from amdlib.core.experiment import defaults
from amdlib.experiments.redistribution import EXPERIMENT
from amdlib.experiments.redistribution.settings import parse_setting, setting_error

REPO = Path(__file__).resolve().parents[3]


def test_notebook_parameters_match():
    nb = nbformat.read(REPO / "notebooks" / EXPERIMENT.notebook, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    ns: dict = {}
    exec(cell.source, ns)
    declared = {k: v for k, v in ns.items() if not k.startswith("__")}
    assert declared == defaults(EXPERIMENT)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_settings_check():
    assert setting_error(["4x2", "10x5"]) is None
    assert "form" in setting_error(["4,2"])
    assert "M <= N - 2" in setting_error(["4x3"])
    assert parse_setting(" 6 x 3 ") == (6, 3)


def test_plan_searches_the_main_setting_the_distillation_and_each_other_setting():
    params = {**defaults(EXPERIMENT), "settings": ["4x2", "5x2"], "table_evaluations": 7, "nna_evaluations": 5}
    plans = EXPERIMENT.searches(params)
    assert [p.name for p in plans] == ["4x2", "nna (distil the network)", "table 5x2"]
    assert plans[1].overrides == {"max_evaluations": 5} and plans[2].overrides == {"max_evaluations": 7}
    assert (plans[2].problem.n, plans[2].problem.m) == (5, 2)
    assert plans[0].problem.describe() == EXPERIMENT.make_problem(params).describe()
