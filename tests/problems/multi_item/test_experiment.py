"""The experiment module: declared params, hooks, and a small sandboxed search end to end."""

import pytest

from amdlib.errors import UserError
from amdlib.experiments import available
from amdlib.experiments import multi_item as exp
from amdlib.pipeline.params import validate
from amdlib.pipeline.schema import defaults

SMALL = {"menu_grid": 21, "n_samples": 2500, "n_holdout": 5000, "audit_grid": 31, "audit_types": 500,
         "workers": 1}


def test_registered_last_and_params_are_validated():
    assert list(available())[-1] == "multi_item"
    p = validate(exp.EXPERIMENT, {"distribution": "beta", "beta_a": 3.0}, "test")
    assert p["distribution"] == "beta" and p["menu_grid"] == 51
    for bad in ({"distribution": "normal"}, {"menu_grid": 1}, {"beta_a": 0.0}, {"rochetnet_steps": 0}):
        with pytest.raises(UserError):
            validate(exp.EXPERIMENT, bad, "test")


def test_baselines_hook_gives_the_ground_truths_with_audits():
    b = exp.baselines({**defaults(exp.EXPERIMENT), **SMALL})
    assert b["optimum"]["revenue"] == pytest.approx(0.549201, abs=1e-6)
    assert b["bundling"]["revenue"] == pytest.approx(0.544331, abs=1e-6)
    assert b["separate"]["revenue"] == pytest.approx(0.5, abs=1e-6)
    for name in ("manelli_vincent", "bundling", "separate"):
        assert b[name]["audit"]["sp"] == 1.0 and b[name]["audit"]["ir"] == 1.0
        assert abs(b[name]["holdout_revenue"] - b[name]["revenue"]) < 4 * b[name]["holdout_se"]
    beta = exp.baselines({**defaults(exp.EXPERIMENT), **SMALL, "distribution": "beta"})
    assert beta["optimum"] is None and beta["two_price"]["revenue"] >= beta["bundling"]["revenue"]


def test_paper_rows_are_literature_values_comparable_only_on_uniform():
    rows = exp.paper_tables({"setting": {"distribution": "uniform"}, "optimum_revenue": 0.5492,
                             "best": {"revenue": 0.548}}, defaults(exp.EXPERIMENT))
    assert {r["metric"] for r in rows} >= {"optimal revenue (Manelli-Vincent)", "learned mechanism revenue"}
    assert all("literature value" in r["note"] for r in rows) and all(r["comparable"] for r in rows)
    learned = [r for r in rows if r["metric"] == "learned mechanism revenue"][0]
    assert learned["ours"] == 0.548 and learned["paper"] == pytest.approx(0.5492)
    assert exp.paper_tables({"setting": {"distribution": "beta"}}, defaults(exp.EXPERIMENT)) == []


def test_small_search_fix_audit_and_rochetnet_end_to_end():
    params = {**defaults(exp.EXPERIMENT), **SMALL, "max_evaluations": 12, "fit_budget": 8, "islands": 2,
              "pop_size": 4, "rochetnet_steps": 20, "rochetnet_entries": 8}
    prob = exp.problem(params)
    result = exp.search(prob, params, progress=False)
    assert result.best.valid and result.best.score >= result.history[0].score
    menu, outputs = exp.learned_menu(prob, result.best.code)
    learned = exp.evaluate_menu(prob, menu, params)
    assert learned["audit"]["max_regret"] == 0.0 and learned["audit"]["min_utility"] >= 0.0
    assert learned["revenue"] == pytest.approx(result.holdout.score)
    assert learned["gap_to_optimum"] == pytest.approx(prob.optimum - learned["revenue"])
    assert learned["revenue_se"] == learned["se"] > 0
    raw = exp.raw_audit(prob, outputs)
    assert set(raw) >= {"max_regret", "ir_violations"}
    net = exp.train_rochetnet(params)
    net_eval = exp.evaluate_menu(prob, net.menu, params)
    assert net_eval["audit"]["max_regret"] == 0.0 and len(net.menu) <= 9
    base = exp.baselines(params)
    others = {"bundling": exp.reference_menu(base, "bundling"), "rochetnet": net.menu}
    paired = exp.comparisons(prob, menu, others)
    assert paired["bundling"]["se"] > 0
    res = exp.summary(prob, result, learned, raw, base, net, net_eval, paired)
    assert res["best"]["revenue"] == learned["revenue"] and res["audit"]["sp"] == 1.0
    assert res["baselines"]["rochetnet"]["revenue"] == net_eval["revenue"]
