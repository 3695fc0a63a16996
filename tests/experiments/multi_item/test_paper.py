"""Literature values beside ours, comparable only for two U[0, 1] items."""

import pytest

from amdlib.core.experiment import defaults
from amdlib.experiments.multi_item import EXPERIMENT


def test_paper_rows_are_literature_values_comparable_only_on_uniform():
    rows = EXPERIMENT.paper_rows({"setting": {"distribution": "uniform"}, "optimum_revenue": 0.5492,
                                  "best": {"revenue": 0.548}}, defaults(EXPERIMENT))
    assert {r["metric"] for r in rows} >= {"optimal revenue (Manelli-Vincent)", "learned mechanism revenue"}
    assert all("literature value" in r["note"] for r in rows) and all(r["comparable"] for r in rows)
    learned = [r for r in rows if r["metric"] == "learned mechanism revenue"][0]
    assert learned["ours"] == 0.548 and learned["paper"] == pytest.approx(0.5492)
    assert EXPERIMENT.paper_rows({"setting": {"distribution": "beta"}}, defaults(EXPERIMENT)) == []
