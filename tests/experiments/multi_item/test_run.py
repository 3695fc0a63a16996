"""The run module: the baselines hook with audits, and a small search, fix, audit, RochetNet and
paired comparison end to end."""

import pytest

from amdlib.core.experiment import defaults
from amdlib.experiments.multi_item import EXPERIMENT, plots, run

SMALL = {**defaults(EXPERIMENT), "menu_grid": 21, "n_samples": 2500, "n_holdout": 5000, "audit_grid": 31,
         "audit_types": 500, "workers": 1}


def test_baselines_hook_gives_the_ground_truths_with_audits():
    b = EXPERIMENT.baselines(SMALL)
    assert b["optimum"]["revenue"] == pytest.approx(0.549201, abs=1e-6)
    assert b["bundling"]["revenue"] == pytest.approx(0.544331, abs=1e-6)
    assert b["separate"]["revenue"] == pytest.approx(0.5, abs=1e-6)
    for name in ("manelli_vincent", "bundling", "separate"):
        assert b[name]["audit"]["sp"] == 1.0 and b[name]["audit"]["ir"] == 1.0
        assert abs(b[name]["holdout_revenue"] - b[name]["revenue"]) < 4 * b[name]["holdout_se"]
    beta = run.baselines({**SMALL, "distribution": "beta"})
    assert beta["optimum"] is None and beta["two_price"]["revenue"] >= beta["bundling"]["revenue"]
    # the notebook draws the first reference: the optimum where it is known, else the best two-price menu
    assert run.reference_names(b) == ["manelli_vincent", "bundling", "separate"]
    assert run.reference_names(beta)[0] == "two_price"


def test_small_search_fix_audit_and_rochetnet_end_to_end():
    params = {**SMALL, "max_evaluations": 12, "fit_budget": 8, "islands": 2, "pop_size": 4, "rochetnet_steps": 20,
              "rochetnet_entries": 8}
    prob = run.make_problem(params)
    result = run.search(prob, params, progress=False)
    assert result.best.valid and result.best.score >= result.history[0].score
    menu, outputs = run.learned_menu(prob, result.best.code)
    learned = run.evaluate_menu(prob, menu, params)
    assert learned["audit"]["max_regret"] == 0.0 and learned["audit"]["min_utility"] >= 0.0
    assert learned["revenue"] == pytest.approx(result.holdout.score)
    assert learned["gap_to_optimum"] == pytest.approx(prob.optimum - learned["revenue"])
    assert learned["revenue_se"] == learned["se"] > 0
    raw = run.raw_audit(prob, outputs)
    assert set(raw) >= {"max_regret", "ir_violations"}
    net = run.train_rochetnet(params)
    net_eval = run.evaluate_menu(prob, net.menu, params)
    assert net_eval["audit"]["max_regret"] == 0.0 and len(net.menu) <= 9
    base = run.baselines(params)
    others = {"bundling": run.reference_menu(base, "bundling"), "rochetnet": net.menu}
    paired = run.comparisons(prob, menu, others)
    assert paired["bundling"]["se"] > 0
    res = run.summary(prob, result, learned, raw, base, net, net_eval, paired)
    assert res["best"]["revenue"] == learned["revenue"] and res["audit"]["sp"] == 1.0
    assert res["baselines"]["rochetnet"]["revenue"] == net_eval["revenue"]
    html = plots.summary_table(res, run.reference_names(base), learned, net_eval)
    assert html.count("<tr>") == 1 + len(run.reference_names(base)) + 2 and "%</td>" in html
