"""The search engine end to end on the toy problem, with the real sandbox and offline proposer."""

from __future__ import annotations

import json
import math

import pytest

from amdlib.core.engine import SearchConfig, run_search
from amdlib.core.program import Proposal, ProposalRequest
from amdlib.core.sandbox import Sandbox
from amdlib.errors import BudgetExhausted, UserError
from amdlib.problems.toy import ToyProblem

SEED_SCORE = -0.25595238095238093  # -mean((1.5x - 0.5)^2) on the 64-point grid


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2) as sb:
        yield sb


def config(**kw) -> SearchConfig:
    params = dict(method="eoh", max_evaluations=60, pop_size=4, islands=3, seed=0, workers=2)
    params.update(kw)
    return SearchConfig.from_params(params)


def canonical(result) -> str:
    d = result.to_dict()
    d["stats"] = {k: v for k, v in d["stats"].items() if k != "timing"}
    return json.dumps(d, sort_keys=True)


class Scripted:
    """A proposer answering from a list of texts (cycled); raises BudgetExhausted after ``limit``."""

    name = "scripted"
    writes_prose = False
    ledger: dict = {}

    def admit(self, request, seed) -> bool:
        return True

    def __init__(self, texts: list[str], limit: int | None = None) -> None:
        self.texts, self.limit, self.calls = texts, limit, 0
        self.requests: list[ProposalRequest] = []

    def propose(self, request: ProposalRequest, seed: int) -> Proposal:
        if self.limit is not None and self.calls >= self.limit:
            raise BudgetExhausted("test budget")
        self.requests.append(request)
        text = self.texts[self.calls % len(self.texts)]
        self.calls += 1
        return Proposal(text=text)

    def close(self) -> None:
        pass


def test_config_from_params_ignores_extras_and_validates():
    c = SearchConfig.from_params({"method": "random", "max_evaluations": 7, "target": "linear", "islands": 2})
    assert (c.method, c.max_evaluations, c.islands, c.pop_size, c.concurrency, c.holdout) == \
        ("random", 7, 2, 16, 4, True)
    with pytest.raises(UserError):
        SearchConfig.from_params({"method": "annealing"})


@pytest.mark.parametrize("method", ["funsearch", "eoh", "eoh-e", "random"])
def test_each_strategy_improves_the_toy_objective(method, sandbox):
    result = run_search(ToyProblem(), config(method=method, max_evaluations=150, pop_size=6), progress=False,
                        sandbox=sandbox)
    assert result.history[0].operator == "seed" and result.history[0].score == pytest.approx(SEED_SCORE)
    assert len(result.history) == 151 and result.stats["proposals"] == 150
    # the seed's mean squared error is 0.256; every strategy must cut it at least fivefold
    assert result.best.score > SEED_SCORE / 5
    assert result.best.valid and result.best.score == max(p.score for p in result.history if p.valid)
    curve = result.curve()
    assert curve[0] == (0, pytest.approx(SEED_SCORE)) and curve[-1] == (150, result.best.score)
    assert all(b[1] >= a[1] for a, b in zip(curve, curve[1:]))
    assert result.holdout is not None and result.holdout.valid
    assert result.stats["stopped"] == "complete" and result.ledger == {}


def test_same_seed_same_result_with_one_or_two_workers(sandbox):
    cfg = config(method="funsearch", max_evaluations=48)
    a = run_search(ToyProblem(), cfg, progress=False, sandbox=sandbox)
    b = run_search(ToyProblem(), cfg, progress=False, sandbox=sandbox)
    with Sandbox(workers=1) as one:
        c = run_search(ToyProblem(), config(method="funsearch", max_evaluations=48, workers=1), progress=False,
                       sandbox=one)
    assert canonical(a) == canonical(b) == canonical(c)
    assert a.best.code == c.best.code
    assert canonical(run_search(ToyProblem(), config(method="funsearch", max_evaluations=48, seed=1),
                                progress=False, sandbox=sandbox)) != canonical(a)


def test_eoh_e_is_deterministic_and_records_strategies(sandbox):
    cfg = config(method="eoh-e", max_evaluations=60, pop_size=3)
    a = run_search(ToyProblem(), cfg, progress=False, sandbox=sandbox)
    b = run_search(ToyProblem(), cfg, progress=False, sandbox=sandbox)
    assert canonical(a) == canonical(b)
    strategies = a.stats["strategy"]["strategies"]
    assert [s["origin"] for s in strategies[:4]] == ["builtin"] * 4
    assert sum(s["n_offspring"] for s in strategies) == 60 - 3


def test_duplicates_are_not_reevaluated(sandbox):
    texts = ["def fit(x):\n    return x\n", "def fit(x):\n    # same program\n    return x\n",
             "def fit(x):\n    return 1 - x\n"]
    result = run_search(ToyProblem(), config(method="random", max_evaluations=9), progress=False,
                        sandbox=sandbox, proposer=Scripted(texts))
    assert result.stats["evaluated"] == 1 + 2  # the seed and two distinct programs
    assert result.stats["duplicates"] == 7
    firsts = {p.code_hash: p.id for p in result.history if p.duplicate_of is None}
    for p in result.history[1:]:
        if p.duplicate_of is not None:
            original = result.history[p.duplicate_of]
            assert firsts[p.code_hash] == original.id and p.evaluation == original.evaluation


def test_rejected_text_records_a_reason(sandbox):
    texts = ["no code here", "def fit(x):\n    return open('/etc/passwd')\n", "def fit(x):\n    return x[:3]\n"]
    result = run_search(ToyProblem(), config(method="random", max_evaluations=3), progress=False,
                        sandbox=sandbox, proposer=Scripted(texts))
    errors = [p.evaluation.error for p in result.history[1:]]
    assert errors[0].startswith("extract:") and errors[1].startswith("policy:")
    assert errors[2] != "" and not result.history[3].valid
    assert result.history[1].code == "" and result.history[2].code != ""
    assert result.stats["rejected"]["extract"] == 1 and result.stats["rejected"]["policy"] == 1
    assert sum(result.stats["rejected"].values()) == 3
    assert result.best.id == 0 and math.isfinite(result.best.score)


def test_budget_exhausted_ends_the_run_cleanly(sandbox):
    proposer = Scripted(["def fit(x):\n    return x\n"], limit=5)
    result = run_search(ToyProblem(), config(method="eoh", max_evaluations=50, pop_size=4), progress=False,
                        sandbox=sandbox, proposer=proposer)
    assert result.stats["stopped"] == "budget"
    assert len(result.history) == 1 + 5 and result.stats["proposals"] == 5
    assert [r.index for r in proposer.requests] == [0, 1, 2, 3, 4]
    assert result.best.score > SEED_SCORE


def test_holdout_rescoring_uses_the_holdout_split(sandbox):
    toy = ToyProblem(n_holdout=500, seed=2)
    result = run_search(toy, config(method="random", max_evaluations=2), progress=False, sandbox=sandbox,
                        proposer=Scripted(["def fit(x):\n    return x\n"]))
    x = toy.payload("holdout")["x"]
    expected = float(((x - (1.5 * x - 0.5)) ** 2).mean())
    assert result.best.code.strip().endswith("return x")
    assert result.holdout.metrics["mse"] == pytest.approx(expected)
    off = run_search(toy, config(method="random", max_evaluations=2, holdout=False), progress=False,
                     sandbox=sandbox, proposer=Scripted(["def fit(x):\n    return x\n"]))
    assert off.holdout is None and off.to_dict()["holdout"] is None


def test_prose_proposer_is_asked_for_strategies_in_eoh_e(sandbox):
    class Prose(Scripted):
        writes_prose = True

        def propose(self, request, seed):
            if request.operator == "strategy":
                self.requests.append(request)
                return Proposal(text="Average the parents' predictions, then shift by a constant.")
            return super().propose(request, seed)

    # one program, always the same: the top 3 stagnate at once
    proposer = Prose(["def fit(x):\n    return x\n"])
    result = run_search(ToyProblem(), config(method="eoh-e", max_evaluations=3 + 12 * 5, pop_size=3),
                        progress=False, sandbox=sandbox, proposer=proposer)
    asked = [r for r in proposer.requests if r.operator == "strategy"]
    assert len(asked) == 2 and result.stats["text_requests"] == 2
    llm = [s for s in result.stats["strategy"]["strategies"] if s["origin"] == "llm"]
    assert [s["status"] for s in llm] == ["active", "active"]
    assert all(p.operator != "strategy" for p in result.history)
