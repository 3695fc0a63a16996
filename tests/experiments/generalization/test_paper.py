"""The transcribed tables and the loading of Experiment 4 runs."""

from __future__ import annotations

import json

import pytest
import yaml

from amdlib.errors import UserError
from amdlib.experiments.generalization import paper, study
from amdlib.experiments.generalization.sources import load_run


def test_transcription_spot_values():
    v = paper.paper_values()
    assert v[("4", "n=10 unweighted uniform K=3", "LLMMech (smaller n)")] == pytest.approx(0.07261)
    assert v[("S10", "n=5 fixed weights normal K=2", "Per. (OOD)")] == pytest.approx(0.03410)
    assert v[("3", "n=10 fixed weights beta2 K=4", "LLMMech-e (OOD)")] == pytest.approx(0.00799)
    assert v[("S14", "n=25 unweighted beta2 K=5", "NonSP")] == pytest.approx(0.01041)
    assert v[("S15", "n=25 unweighted uniform K=3", "LLMMech (smaller n)")] == pytest.approx(0.10088)
    assert len(v) == 879  # 996 rows; the learned and NonSP columns repeat across a table's two panels


def test_larger_n_rows_mark_neural_not_applicable():
    larger = {"10": {"learned": {"m": {"applicable": True, "social_cost": 0.1, "max_regret": 0.0, "distribution": "uniform",
                                       "k": 2, "trained_n": 5}},
                     "percentile": {"uniform K=2": {"applicable": True, "social_cost": 0.099, "max_regret": 0.0}},
                     "nonsp": {"uniform K=2": 0.094}}}
    rows = {r["metric"]: r for r in paper.larger_n_rows(larger)}
    assert rows["MoulinNet"]["ours"] == paper.NOT_APPLICABLE
    assert rows["Per. (refitted at this n)"]["paper"] == pytest.approx(0.10004)
    assert rows["m vs LLMMech-e (smaller n)"]["ours"] == 0.1


def test_load_run(tmp_path):
    run = tmp_path / "facility_location" / "abc123"
    run.mkdir(parents=True)
    (run / "results.json").write_text(json.dumps({"best": {"code": "def mechanism(p, w, K):\n    return p\n"}}))
    (run / "params.yaml").write_text(yaml.safe_dump({"n_agents": 5, "n_facilities": 3, "weights": "none",
                                                     "distribution": "uniform"}))
    m = load_run("abc123", tmp_path)
    assert (m.n, m.k, m.unweighted, m.source) == (5, 3, True, "abc123")
    with pytest.raises(UserError, match="no results.json"):
        load_run("missing", tmp_path)
    params = {"source_runs": ["abc123"]}
    learned, searches = study.learned_mechanisms(params, tmp_path)  # the outputs folder is the caller's
    assert [m.source for m in learned] == ["abc123"] and searches == {}
