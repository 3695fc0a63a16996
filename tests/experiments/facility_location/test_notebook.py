"""The notebook's steps: each prints what it computed, and the results hold every step's numbers."""

from __future__ import annotations

from amdlib.experiments.facility_location import EXPERIMENT
from amdlib.experiments.facility_location.notebook import FacilityRun
from amdlib.pipeline.params import validate


def test_a_small_run_step_by_step(tmp_path):
    params = validate(EXPERIMENT, {"n_train": 80, "n_test": 80, "max_evaluations": 8, "pop_size": 2, "workers": 1,
                                   "audit_profiles": 10, "audit_grid": 21, "fit_budget": 4, "neural": False,
                                   "overview": False, "weight_sets": True, "verdict_profiles": 500}, "test")
    run = FacilityRun(params, tmp_path)
    assert run.setting_text().startswith("n=5  K=2  peaks ~ U[0, 1]")
    assert run.resolve_epsilon() == "epsilon = 0 (the epsilon parameter)"
    assert "test set, paper column from Table 1" in run.baselines()
    assert run.neural() == "neural baselines skipped (neural = False)"
    assert "composition" in run.family_table()
    assert "programs" in run.search(progress=False)
    assert run.learned().startswith("best learned: train cost")
    assert "```python\ndef mechanism" in run.code_markdown() or "```python\nimport" in run.code_markdown()
    assert run.counterexample()
    assert "500 fresh profiles" in run.verdicts()
    assert "learned (eoh)" in run.paper_cell()
    assert run.table1_grid().startswith("table1_grid = False") and run.table1_text().startswith("no in-notebook grid")
    assert run.overview_text().startswith("overview skipped")
    assert len(run.weight_sets) == 10 and run.weight_set_text().splitlines()[0].split()[0] == "set"
    results = run.results()
    assert list(results) == ["setting", "best", "baselines", "baseline_audit", "overview", "weight_sets", "table1",
                             "families", "verdicts", "restarts", "constant_fitting", "search"]
    assert results["setting"]["epsilon_source"] == {"source": "value", "epsilon": 0.0}
    assert results["verdicts"]["profiles"] == 500 and results["best"]["code"] == run.best["code"]


def test_a_matched_regret_run_searches_at_the_printed_regret():
    params = validate(EXPERIMENT, {"n_agents": 5, "n_facilities": 2, "distribution": "normal", "n_train": 50, "n_test": 50,
                                   "epsilon_source": "paper-llmmech-e"}, "test")
    run = FacilityRun(params)
    assert run.problem.epsilon == 0.0
    text = run.resolve_epsilon()
    assert run.problem.epsilon == 0.00404 and run.setting["epsilon"] == 0.00404 and "LLMMech-e" in text
    assert run.setting["epsilon_source"]["source"] == "paper-llmmech-e"
