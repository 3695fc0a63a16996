"""Paper protocols and paid-for answers against a real scripted chat-completions server on 127.0.0.1:
the facility paper.yaml logs its 20 generations and evolves prompts on stagnation; a killed LLM run,
rerun, asks only for what it had not been answered; no API key reaches any output file."""

from __future__ import annotations

import itertools
import json
import os
import signal
import time
from pathlib import Path

import pytest

from amdlib.core.proposers import ledger as ledger_mod
from tests.conftest import REPO
from tests.core.proposers.chat_server import HANG, ChatServer

KEY = "sk-scripted-SECRET-7f3a9c"


def toy_answer(i: int) -> str:
    return ("{Shrink the identity towards a constant.}\n```python\nimport numpy as np\n\n\n"
            f"def fit(x):\n    return {0.5 + 0.01 * (i % 40):.2f} * x + 0.2\n```\n")


@pytest.fixture(autouse=True)
def llm_env(monkeypatch):
    for name in ("OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # sent to the local server; must never be written anywhere
    ledger_mod.end_run()
    yield
    ledger_mod.end_run()


def test_facility_paper_protocol_logs_20_generations_and_evolves_prompts() -> None:
    from amdlib.core.engine import SearchConfig, run_search
    from amdlib.experiments.facility_location import run as fr
    from amdlib.experiments import get
    from amdlib.pipeline.params import load_params

    # Small profile sets and population: the protocol's count (20 generations, stagnation 3) is unchanged.
    sets = ["pop_size=2", "n_train=40", "n_test=40", "workers=1", "concurrency=4", "backoff_s=0.01"]
    params = load_params(get("facility_location"), REPO / "params/facility_location/paper.yaml", sets)
    assert (params["method"], params["generations"], params["model"]) == ("eoh-e", 20, "gpt-4o-mini")
    problem = fr.make_problem(params)
    seed_answer = "{Keep the best percentile rule.}\n```python\n" + problem.seed_program + "\n```"

    def answer(body):  # every mechanism answer is the seed again: the top 3 stagnate
        if "design instructions" in body["messages"][0]["content"]:
            return "Move one facility to the median of the agents nearest to it, keeping the rest."
        return seed_answer

    with ChatServer(answer) as server:
        params["base_url"] = server.url
        result = run_search(problem, SearchConfig.from_params(params), progress=False)
        strategy_prompts = [r for r in server.requests if r not in server.code_requests()]
    stats = result.stats["strategy"]
    assert [g["generation"] for g in stats["generations"]] == list(range(21))  # 0 = initial, then 20
    assert len(server.code_requests()) == 2 * (1 + 4 * 20) == result.ledger["calls"] - len(strategy_prompts)
    events = stats["strategy_events"]
    stagnations = [e["generation"] for e in events if e["event"] == "stagnation"]
    assert stagnations and stagnations[0] <= 4
    created = [e for e in events if e["event"] == "created" and e["origin"] == "llm"]
    assert len(created) == 2 * len(stagnations) and len(strategy_prompts) == len(created)
    assert {s["origin"] for s in stats["strategies"]} >= {"builtin", "llm"}
    prompt = strategy_prompts[0]["messages"][1]["content"]
    assert problem.task.strip() in prompt and "lower is better" in prompt  # task and strategy fitness shown
    assert "Fitness (higher is better)" not in json.dumps(server.requests)  # one fitness sign throughout


def quantile_answer(i: int) -> str:
    """A valid facility mechanism about as long as the estimate assumes an answer is (statements, not
    comments: parents are shown normalised)."""
    pad = "".join(f"    t{j} = np.clip(peaks[:, :1] * {j + 1}.0, 0.0, 1.0) - 0.5\n" for j in range(30))
    return ("{Place the facilities at two quantiles of the reports.}\n```python\nimport numpy as np\n\n\n"
            f"def mechanism(peaks, weights, K):\n{pad}    return np.quantile(peaks, np.array([{0.2 + 0.001 * (i % 300):.3f}, "
            "0.7]), axis=1, method='inverted_cdf').T\n```\n")


def test_the_estimate_of_the_facility_paper_protocol_is_within_ten_percent_of_the_completed_runs_ledger() -> None:
    from amdlib.core.engine import SearchConfig, run_search
    from amdlib.experiments.facility_location import run as fr
    from amdlib.experiments import get
    from amdlib.pipeline.estimate import ANSWER_TOKENS, estimate
    from amdlib.pipeline.params import load_params

    assert abs(len(quantile_answer(0)) / 4 - ANSWER_TOKENS) < 0.05 * ANSWER_TOKENS
    sets = ["pop_size=4", "generations=3", "n_train=40", "n_test=40", "workers=1", "backoff_s=0.01", "model=gpt-4o",
            "epsilon_source=value"]
    params = load_params(get("facility_location"), REPO / "params/facility_location/paper.yaml", sets)
    count = itertools.count()

    def answer(body):
        if "design instructions" in body["messages"][0]["content"]:
            return "Move one facility to the median of the agents nearest to it."
        return quantile_answer(next(count))

    with ChatServer(answer) as server:
        params["base_url"] = server.url
        planned = estimate("facility_location", params)
        result = run_search(fr.make_problem(params), SearchConfig.from_params(params), progress=False)
    ledger = result.ledger
    assert result.stats["valid"] > 4 * (1 + 4 * 3) // 2  # a real search ran, not a string of rejects
    assert planned.calls - planned.searches[0].strategy_calls == 4 * (1 + 4 * 3) <= ledger["calls"] <= planned.calls
    assert planned.cost() == pytest.approx(ledger["cost_usd"], rel=0.10), (planned.table(), ledger)
    assert planned.prompt_tokens == pytest.approx(ledger["prompt_tokens"], rel=0.10)


def _cassette_lines(outputs: Path) -> int:
    files = list((outputs / "quickstart").glob(".tmp-*/cassette.jsonl"))
    return sum(len(f.read_text(encoding="utf-8").splitlines()) for f in files)


@pytest.mark.slow  # two real kernel runs of the quickstart
def test_killed_llm_run_rerun_sends_only_the_remaining_requests_and_no_key_is_written(amd, amd_popen, tmp_path) -> None:
    out = tmp_path / "out"
    served = itertools.count()
    with ChatServer(lambda body: toy_answer(next(served)) if len(server.requests) <= 10 else HANG) as server:
        args = ["run", "quickstart", "-p", "params/quickstart/smoke.yaml", "--set", "proposer=openai",
                "--set", f"base_url={server.url}", "--set", "max_evaluations=24", "--set", "concurrency=2"]
        proc = amd_popen(*args, outputs=out)
        deadline = time.monotonic() + 240
        try:
            while _cassette_lines(out) < 10 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.1)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the run dies with 10 paid answers on disk
            proc.wait()
        assert _cassette_lines(out) == 10
        asked_before = len(server.requests)
        server.answer = lambda body: toy_answer(next(served))
        done = amd(*args, outputs=out)
        assert done.returncode == 0, done.stderr
        assert "LLM estimate for quickstart on scripted: 24 calls" in done.stdout
        assert len(server.requests) - asked_before == 24 - 10  # only what the killed run was not answered
    (run,) = [p for p in (out / "quickstart").iterdir() if p.is_dir() and not p.name.startswith(".")]
    info = json.loads((run / "run.json").read_text())
    assert info["cassette"] == "cassette.jsonl" and info["llm_run"]["calls"] == 24
    assert info["llm_run"]["resumed_from_cassette"] == 10
    ledger = json.loads((run / "ledger.json").read_text())  # each search labelled by its name and proposer/model
    assert list(ledger) == ["search: openai/scripted"] and ledger["search: openai/scripted"]["calls"] == 24
    assert len((run / "cassette.jsonl").read_text().splitlines()) == 24
    assert not list((out / "quickstart").glob("*.cassette.jsonl"))  # the kept answers went into the run
    leaks = [p for p in out.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert leaks == []
