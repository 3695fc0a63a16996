"""The run module: the baselines hook, and one setting's study end to end (search, paired holdout
comparison, audit and worst case, the learned code run through the Evaluator)."""

import json

import pytest

from amdlib.core.experiment import defaults
from amdlib.errors import UserError
from amdlib.experiments.redistribution import EXPERIMENT, run


def test_baselines_hook():
    out = EXPERIMENT.baselines({**defaults(EXPERIMENT), "n_bidders": 6, "n_units": 3})
    assert out["bailey_cavallo"]["expected_fraction_exact"] == pytest.approx(7 / 9)
    assert out["wco"]["worst_case_fraction"] == pytest.approx(0.375)
    assert out["oel"]["expected_fraction_exact"] >= out["wco"]["expected_fraction_exact"]
    json.dumps(out)
    with pytest.raises(UserError):
        run.baselines({**defaults(EXPERIMENT), "n_bidders": 4, "n_units": 3})


def test_one_setting_end_to_end():
    params = {**defaults(EXPERIMENT), "max_evaluations": 3, "pop_size": 2, "islands": 1, "workers": 1,
              "holdout_samples": 2000, "audit_profiles": 300}
    sandbox = run.open_sandbox(params)
    try:
        main = run.study_setting(params, 4, 2, 3, sandbox, progress=False)
    finally:
        sandbox.close()
    assert main["valid"] and main["search"].best.score == main["search_fraction"]
    comparison = main["comparison"]
    # the search starts from Bailey-Cavallo and only keeps what scores at least as well
    assert comparison["learned"]["expected_fraction"] >= comparison["bailey_cavallo"]["expected_fraction"] - 0.01
    assert main["audit"]["deficits"] == 0 and main["audit"]["negative_rebates"] == 0
    assert main["audit"]["random_profiles"] == 300
    assert set(main["mechanisms"]) == {"learned (fixed)", *run.MANUAL}
    assert 0.0 <= main["worst_case"]["worst_case_fraction"] <= 1.0
