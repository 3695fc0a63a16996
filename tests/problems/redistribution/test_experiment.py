"""Experiment declaration, notebook parameters, baselines hook, paper data."""

import json

import nbformat
import pytest

from amdlib.errors import UserError
from amdlib.experiments.redistribution import EXPERIMENT
from amdlib.pipeline.schema import defaults
from amdlib.problems.redistribution import study
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_notebook_parameters_match():
    nb = nbformat.read(REPO / "notebooks" / EXPERIMENT.notebook, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    ns: dict = {}
    exec(cell.source, ns)
    declared = {k: v for k, v in ns.items() if not k.startswith("__")}
    assert declared == defaults(EXPERIMENT)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_baselines_hook():
    out = study.baselines({**defaults(EXPERIMENT), "n_bidders": 6, "n_units": 3})
    assert out["bailey_cavallo"]["expected_fraction_exact"] == pytest.approx(7 / 9)
    assert out["wco"]["worst_case_fraction"] == pytest.approx(0.375)
    assert out["oel"]["expected_fraction_exact"] >= out["wco"]["expected_fraction_exact"]
    json.dumps(out)
    with pytest.raises(UserError):
        study.baselines({**defaults(EXPERIMENT), "n_bidders": 4, "n_units": 3})


def test_settings_check():
    assert study.setting_error(["4x2", "10x5"]) is None
    assert "form" in study.setting_error(["4,2"])
    assert "M <= N - 2" in study.setting_error(["4x3"])
    assert study.parse_setting(" 6 x 3 ") == (6, 3)


def test_paper_rows_and_hook():
    rows = study.paper_rows()
    assert {r["metric"]: float(r["value"]) for r in rows} == {
        "prior manual method": 0.4935, "AMD-LLM": 0.5838, "RegretNet": 0.6254, "NNA-AMD-LLM": 0.5917}
    table = study.paper_tables({"setting": {"n_bidders": 4, "n_units": 2, "distribution": "uniform"},
                                "best": {"expected_fraction": 0.7}}, {})
    assert len(table) == 4 and table[1]["ours"] == 0.7 and "unstated" in table[1]["setting"]
