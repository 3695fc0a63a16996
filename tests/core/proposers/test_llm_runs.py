"""LLM searches through ``proposer: openai`` against a real scripted chat server on 127.0.0.1:
reasoning answers, empty answers, hangs, per-run caps, unpriced models, estimate vs ledger, resume."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from amdlib.core.engine import SearchConfig, run_search
from amdlib.core.proposers import ledger as ledger_mod
from amdlib.core.proposers.factory import make_proposer
from amdlib.core.sandbox import Sandbox
from amdlib.errors import UserError
from amdlib.problems.toy import ToyProblem

from .chat_server import HANG, ChatServer, error

KEY = "sk-test-NEVER-WRITTEN-42"


def toy_answer(c: float, pad: int = 0) -> str:
    body = f"    return {c:.4f} * x + 0.25 * (1 - x)\n"
    # Real answers are mostly code (which parents then show again): pad with statements, not comments.
    comment = "".join(f"    t{i} = np.clip(x * {i + 1}.0, 0.0, 1.0) - 0.5\n" for i in range(pad))
    return ("{Blend the identity with a constant offset.}\n```python\nimport numpy as np\n\n\n"
            f"def fit(x):\n{comment}{body}```\n")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2) as sb:
        yield sb


@pytest.fixture(autouse=True)
def env(monkeypatch):
    for name in ("OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    ledger_mod.end_run()
    yield
    ledger_mod.end_run()


def counter_answers(pad: int = 0):
    count = itertools.count()
    return lambda body: toy_answer(0.5 + 0.01 * (next(count) % 50), pad)


def cfg(server: ChatServer, **kw) -> SearchConfig:
    params = dict(method="funsearch", proposer="openai", model="scripted", base_url=server.url, max_evaluations=8,
                  islands=2, seed=1, workers=2, concurrency=4, backoff_s=0.01, holdout=False)
    params.update(kw)
    return SearchConfig.from_params(params)


def test_reasoning_answers_final_code_wins_and_thought_is_the_answers_idea(sandbox) -> None:
    draft = "```python\ndef fit(x):\n    return x * 0 + 99\n```"
    final = toy_answer(0.6)
    answers = itertools.cycle([f"<think>\nLet me draft:\n{draft}\nHmm, better:\n</think>\n{final}",
                               {"content": final, "reasoning": f"draft: {draft}"}])
    with ChatServer(lambda body: next(answers)) as server:
        result = run_search(ToyProblem(), cfg(server, max_evaluations=4), progress=False, sandbox=sandbox)
    programs = result.history[1:]
    assert len(programs) == 4 and all(p.valid for p in programs)
    assert all("0.6 * x" in p.code and "99" not in p.code for p in programs)
    assert {p.thought for p in programs} == {"Blend the identity with a constant offset."}


def test_empty_answers_fail_the_search_with_one_line(sandbox) -> None:
    answers = itertools.cycle(["", {"content": None}, {"content": "", "reasoning": "I ran out of tokens while"}])
    with ChatServer(lambda body: next(answers)) as server:
        with pytest.raises(UserError) as info:
            run_search(ToyProblem(), cfg(server, max_evaluations=6), progress=False, sandbox=sandbox)
    msg = str(info.value)
    assert "\n" not in msg and "no answer was a valid candidate" in msg and "no code found" in msg


def test_rate_limits_and_5xx_are_retried_then_a_hang_fails_within_timeout_times_attempts(sandbox) -> None:
    with ChatServer(counter_answers()) as server:
        server.script = [error(429, "slow down"), error(500), error(503)]
        result = run_search(ToyProblem(), cfg(server, max_evaluations=4, concurrency=1), progress=False,
                            sandbox=sandbox)
        assert result.ledger["calls"] == 4 and result.ledger["retries"] == 3 and len(server.requests) == 7
    with ChatServer(lambda body: HANG) as server:
        start = time.monotonic()
        with pytest.raises(UserError) as info:
            run_search(ToyProblem(), cfg(server, max_evaluations=2, concurrency=1, request_timeout_s=1.0, retries=1),
                       progress=False, sandbox=sandbox)
        took = time.monotonic() - start
    assert "request_timeout_s=1s" in str(info.value) and "2 attempts" in str(info.value)
    assert 1.9 < took < 4.0, took  # two 1 s attempts (and a short backoff), not minutes


def test_max_llm_calls_holds_per_run_across_searches_and_in_flight_calls(sandbox, capsys) -> None:
    ledger_mod.begin_run(max_calls=5)
    with ChatServer(counter_answers()) as server:
        first = run_search(ToyProblem(), cfg(server, max_llm_calls=5, max_evaluations=8), progress=False, sandbox=sandbox)
        second = run_search(ToyProblem(), cfg(server, max_llm_calls=5, max_evaluations=8, method="eoh", pop_size=2),
                            progress=False, sandbox=sandbox)
        assert len(server.requests) == 5
    assert (first.ledger["calls"], second.ledger["calls"]) == (5, 0)
    assert first.stats["stopped"] == second.stats["stopped"] == "budget"
    run = ledger_mod.current_run().to_dict()
    assert run["calls"] == 5 and run["stopped_by_budget"] == "max_llm_calls" and len(run["searches"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if "budget reached" in line]
    assert lines == ["amd: LLM call budget reached: max_llm_calls=5 (5 calls made, $0.0000); the search stops with what it has"]


def test_cost_cap_never_overshot_by_in_flight_calls(sandbox) -> None:
    # gpt-4o: $2.50 / $10 per million tokens. Each answer costs about the same; 4 run in parallel.
    with ChatServer(counter_answers(pad=40)) as server:
        result = run_search(ToyProblem(), cfg(server, model="gpt-4o", max_cost_usd=0.02, max_evaluations=40,
                                               max_tokens=600), progress=False, sandbox=sandbox)
    ledger = result.ledger
    assert ledger["stopped_by_budget"] == "max_cost_usd"
    assert 0 < ledger["cost_usd"] <= 0.02 and ledger["calls"] < 40


def test_unpriced_model_with_a_cost_cap_is_refused_before_any_call(sandbox) -> None:
    with ChatServer(counter_answers(), models=("my-local-model",)) as server:
        with pytest.raises(UserError, match="price_in and price_out"):
            make_proposer(cfg(server, model="my-local-model", max_cost_usd=1.0), ToyProblem())
        with pytest.raises(UserError, match="price_in and price_out"):  # the served model, asked of the server
            run_search(ToyProblem(), cfg(server, model="", max_cost_usd=1.0), progress=False, sandbox=sandbox)
        # Priced explicitly: allowed, and charged at that price.
        result = run_search(ToyProblem(), cfg(server, model="my-local-model", max_cost_usd=1.0, price_in=1.0,
                                               price_out=2.0, max_evaluations=2), progress=False, sandbox=sandbox)
        assert len(server.requests) == 2
    ledger = result.ledger
    expected = (ledger["prompt_tokens"] * 1.0 + ledger["completion_tokens"] * 2.0) / 1e6
    assert ledger["priced"] is True and ledger["cost_usd"] == pytest.approx(expected, abs=1e-6) and expected > 0


def test_estimate_is_within_ten_percent_of_the_ledger(sandbox) -> None:
    from amdlib.experiments import get
    from amdlib.pipeline.estimate import ANSWER_TOKENS, estimate
    from amdlib.pipeline.params import validate

    pad = max(0, (ANSWER_TOKENS * 4 - len(toy_answer(0.5))) // 42)  # answers about as long as the estimate assumes
    with ChatServer(counter_answers(pad)) as server:
        for method, budget in (("funsearch", 24), ("eoh", 12)):
            params = validate(get("quickstart"), dict(proposer="openai", model="gpt-4o", base_url=server.url,
                                                       method=method, max_evaluations=budget, pop_size=4, islands=2,
                                                       seed=0, backoff_s=0.01), "test")
            planned = estimate("quickstart", params)
            result = run_search(ToyProblem(seed=0), SearchConfig.from_params(params), progress=False, sandbox=sandbox)
            ledger = result.ledger
            assert planned.calls == ledger["calls"] == budget
            assert planned.cost() == pytest.approx(ledger["cost_usd"], rel=0.10), (method, planned.table(), ledger)
            tokens = planned.prompt_tokens + planned.completion_tokens
            assert tokens == pytest.approx(ledger["total_tokens"], rel=0.10)


def test_a_failed_run_rerun_sends_only_the_remaining_requests(sandbox, tmp_path) -> None:
    cassette = tmp_path / "c.jsonl"
    answers = counter_answers()
    with ChatServer(answers) as server:
        # The endpoint dies for good after 10 answers: the run fails, the 10 answers are on disk.
        served = itertools.count()
        server.answer = lambda body: answers(body) if next(served) < 10 else error(500)
        with pytest.raises(UserError, match="kept failing"):
            run_search(ToyProblem(), cfg(server, max_evaluations=24, cassette=str(cassette), retries=0),
                       progress=False, sandbox=sandbox)
        recorded = [json.loads(line) for line in cassette.read_text().splitlines()]
        assert len(recorded) == 10 and KEY not in cassette.read_text()
    with ChatServer(counter_answers()) as server:
        result = run_search(ToyProblem(), cfg(server, max_evaluations=24, cassette=str(cassette)), progress=False,
                            sandbox=sandbox)
        assert len(server.requests) == 14  # only the requests the cassette did not hold
    assert result.ledger["calls"] == 24 and result.ledger["resumed_from_cassette"] == 10
    assert len(cassette.read_text().splitlines()) == 24
