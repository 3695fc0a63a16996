"""Constant fitting: literal discovery and substitution, and fitting through the real sandbox."""

from __future__ import annotations

import ast

import pytest

from amdlib.core.constants import ConstantFitter, FitConfig, find_literals, substitute
from amdlib.core.engine import SearchConfig, run_search
from amdlib.core.evaluator import Evaluator
from amdlib.core.program import Proposal
from amdlib.core.sandbox import Sandbox
from amdlib.problems.toy import ToyProblem

# The toy target is 1.5 x - 0.5: a skeleton with wrong constants.
SKELETON = """import numpy as np

def fit(x):
    y = np.sum(x[:, None] * np.ones((1, 2)), axis=1)
    return 0.9 * x - 0.1 + 0.0 * y[0]
"""


def test_find_literals_skips_structure():
    code = "def f(x):\n    a = x[:, 1] * 2.5\n    return np.sum(a, axis=1) + 0.5 * a ** 2 - -1.5\n"
    assert find_literals(code) == [2.5, 0.5, 1.5]  # ints and subscripts are structure; the sign stays outside
    assert find_literals("not python (") == []


def test_substitute_roundtrip_and_negative_values():
    code = "def f(x):\n    return 0.5 * x + 0.25\n"
    out = substitute(code, [-2.0, 0.1234567891])
    ns: dict = {}
    exec(out, ns)
    assert ns["f"](2.0) == pytest.approx(-2.0 * 2 + 0.123457)
    assert find_literals(out) == [2.0, 0.123457]  # the minus is a unary operator outside the literal
    ast.parse(out)
    with pytest.raises(ValueError):
        substitute(code, [1.0])


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=1) as sb:
        yield sb


@pytest.mark.parametrize("method", ["nelder-mead", "powell"])
def test_fitter_recovers_the_target_constants(sandbox, method):
    problem = ToyProblem()
    ev = Evaluator(problem, sandbox)
    start = ev.evaluate_code(SKELETON)
    fitter = ConstantFitter(ev, FitConfig(budget=120, method=method))
    res = fitter.fit(SKELETON, start, "h", budget=120)
    assert res.improved and res.evaluations <= 120
    assert -res.evaluation.score < 1e-4 < -start.score  # mse from 0.09 to ~0
    slope, intercept = res.after[0], res.after[1]
    assert slope == pytest.approx(1.5, abs=0.02) and intercept == pytest.approx(0.5, abs=0.02)
    assert fitter.stats["evaluations"] == res.evaluations and fitter.fit(SKELETON, start, "h") is res  # cached


class OneSkeleton:
    """A proposer that always answers the same skeleton (its literals are what the fit improves)."""

    name = "scripted"
    writes_prose = False
    ledger: dict = {}

    def admit(self, request, seed) -> bool:
        return True

    def propose(self, request, seed):
        return Proposal(text=SKELETON)

    def close(self) -> None:
        pass


def test_engine_fits_counts_budget_and_keeps_the_fitted_code(sandbox):
    cfg = SearchConfig.from_params({"method": "random", "max_evaluations": 40, "pop_size": 2, "fit_constants": True,
                                    "fit_budget": 25, "fit_margin": float("inf"), "holdout": False})
    result = run_search(ToyProblem(), cfg, progress=False, sandbox=sandbox, proposer=OneSkeleton())
    fit = result.stats["constant_fitting"]
    assert fit["enabled"] and fit["evaluations"] > 0
    assert result.stats["proposals"] + fit["evaluations"] <= 40  # fitting trials count in the budget
    assert fit["budget_share"] == pytest.approx(fit["evaluations"] / (result.stats["proposals"] + fit["evaluations"]))
    best = result.best
    assert best.operator.endswith("+fit") and best.code != SKELETON.strip()
    assert find_literals(best.code) != find_literals(SKELETON)  # the fitted values are in the code
    assert -best.score < 0.01
    off = run_search(ToyProblem(), SearchConfig.from_params({"method": "random", "max_evaluations": 10, "holdout": False}),
                     progress=False, sandbox=sandbox, proposer=OneSkeleton())
    assert off.stats["constant_fitting"] == {"enabled": False} and -off.best.score > 0.03
