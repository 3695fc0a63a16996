"""The local-LLM round trip: evolve through the openai proposer against the embedded
SmolLM2 server, record a cassette, replay it offline and get the very same run."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import time

import pytest

from amdlib.core.engine import SearchConfig, run_search
from amdlib.core.proposers.factory import make_proposer
from amdlib.llm.server import start_server
from amdlib.problems.toy import ToyProblem

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"),
]

BUDGET = 4


@pytest.fixture(scope="module")
def local_llm():
    start = time.monotonic()
    with start_server() as server:
        print(f"\nSmolLM2 server ready in {time.monotonic() - start:.2f}s at {server.base_url}")
        yield server
    assert server.process.poll() is not None  # the with block killed the server


def comparable(result) -> str:
    """The result without wall-clock times and ledger (which differ between live and replay)."""
    data = result.to_dict()
    data["stats"] = {k: v for k, v in data["stats"].items() if k != "timing"}
    data.pop("ledger")
    return json.dumps({"result": data, "history": [p.to_dict() for p in result.history]}, sort_keys=True)


def test_record_then_replay_is_identical(local_llm, tmp_path, monkeypatch) -> None:
    # EoH: later prompts show earlier programs, so the replay must follow the same evolution.
    # Kept tiny: on a busy 2-core machine each new prompt costs seconds of prompt processing.
    method = "eoh"
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_MODEL", raising=False)
    cassette = tmp_path / f"{method}.jsonl"
    # The budget (4 calls: 2 initial, 2 evolved) ends the run inside a concurrent batch.
    config = SearchConfig(
        method=method, proposer="openai", max_evaluations=12, pop_size=2, batch_size=4, seed=3,
        base_url=local_llm.base_url, temperature=0.8, max_llm_calls=BUDGET, cassette=str(cassette),
        workers=1, concurrency=2,
    )
    problem = ToyProblem()
    proposer = make_proposer(config, problem, max_tokens=200)
    start = time.monotonic()
    try:
        live = run_search(problem, config, progress=False, proposer=proposer)
    finally:
        proposer.close()
    seconds = time.monotonic() - start
    ledger = live.ledger
    print(f"\n{method}: {ledger['calls']} completions, {ledger['completion_tokens']} tokens, "
          f"{ledger['seconds'] / max(1, ledger['calls']):.2f}s per completion, run {seconds:.1f}s")
    assert ledger["calls"] == BUDGET and ledger["model"] == local_llm.model
    assert ledger["completion_tokens"] > 0 and ledger["cost_usd"] == 0.0
    assert live.stats["stopped"] == "budget"
    lines = [json.loads(line) for line in cassette.read_text(encoding="utf-8").splitlines()]
    assert sum(e["key"] != "budget-exhausted" for e in lines) == BUDGET
    assert all(e["params"]["max_tokens"] == 200 for e in lines if e["key"] != "budget-exhausted")

    # Replay: no endpoint (a dead URL), no key; the same evolution bit for bit.
    replay_config = dataclasses.replace(config, proposer="replay", base_url="http://127.0.0.1:9/v1")
    replayed = run_search(problem, replay_config, progress=False)
    assert replayed.best.code == live.best.code
    assert replayed.best.score == live.best.score
    assert comparable(replayed) == comparable(live)
    assert replayed.ledger["source"] == "replay"
    assert (replayed.ledger["calls"], replayed.ledger["completion_tokens"]) == (BUDGET, ledger["completion_tokens"])
