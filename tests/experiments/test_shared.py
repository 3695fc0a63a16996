"""The scaffolding the built-in experiments share: restarts recorded, a program run once and fixed,
curves as JSON rows, the revenue table."""

import pytest

from amdlib.core.experiment import defaults
from amdlib.errors import UserError
from amdlib.experiments import get
from amdlib.experiments.shared import curve_rows, fixed_program, revenue_table, run_once, search
from amdlib.problems.correlated.problem import CorrelatedRevenueProblem
from amdlib.problems.toy import ToyProblem

SMALL = {**defaults(get("quickstart")), "max_evaluations": 6, "pop_size": 2, "islands": 1, "workers": 1}


def test_search_records_every_restart_and_returns_the_best():
    chosen = search(ToyProblem(n_points=16), SMALL, {"max_evaluations": 4}, restarts=2, progress=False)
    rows = chosen.stats["restarts"]
    assert [r["seed"] for r in rows] == [0, 7919]
    assert all(r["evaluations"] == 5 for r in rows)  # the seed program, then the 4 proposed
    assert chosen.best.score == max(r["score"] for r in rows)
    assert curve_rows(chosen) == [[int(n), float(s)] for n, s in chosen.curve()]


def test_run_once_goes_through_the_evaluator_and_the_fix_refuses_unusable_outputs():
    toy = ToyProblem(n_points=16)
    out = run_once(toy, "import numpy as np\n\ndef fit(x):\n    return 2 * x\n")
    assert list(out["y"]) == pytest.approx(list(2 * toy.payload("search")["x"]))
    grid = CorrelatedRevenueProblem(5, 0.5)
    report, outputs = fixed_program(grid, "import numpy as np\n\ndef priority(bid, other_bid, p_same, p_above, step, "
                                          "bidder):\n    return bid - 0.5\n")
    assert report.revenue > 0 and "score" in outputs
    with pytest.raises(UserError, match="unusable: output: shape"):
        fixed_program(grid, "import numpy as np\n\ndef priority(bid, other_bid, p_same, p_above, step, bidder):\n"
                            "    return np.zeros(3)\n")


def test_revenue_table_gives_shares_of_the_optimum_or_none():
    html = revenue_table([("a", 0.25, "x"), ("b", 0.5, "y")], 0.5, digits=2)
    assert "<td>a</td><td>0.2500</td><td>50.00%</td><td>x</td>" in html and html.endswith("</table>")
    assert "<td>n/a</td>" in revenue_table([("a", 0.25, "x")], None)
