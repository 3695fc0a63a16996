"""The prompt a notebook shows: the first one the model received (from a real scripted server's
cassette), or, offline, the one an LLM run would send, labelled; no optimum unless reveal_optimum."""

from __future__ import annotations

import json

import pytest

from amdlib.core.engine import SearchConfig, run_search
from amdlib.core.proposers import ledger as ledger_mod
from amdlib.experiments import get
from amdlib.pipeline.params import load_params
from amdlib.pipeline.prompt_view import recorded_prompt, shown_prompt
from amdlib.problems.toy import ToyProblem
from tests.conftest import REPO
from tests.core.proposers.chat_server import ChatServer

ANSWER = "{Scale it.}\n```python\nimport numpy as np\n\n\ndef fit(x):\n    return 0.5 * x + 0.2\n```\n"


@pytest.fixture(autouse=True)
def env(monkeypatch):
    for name in ("OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-prompt-view")
    ledger_mod.end_run()
    yield
    ledger_mod.end_run()


def test_an_llm_run_shows_the_first_request_exactly_as_the_server_received_it(tmp_path) -> None:
    cassette = tmp_path / "cassette.jsonl"
    params = dict(method="eoh", proposer="openai", model="scripted", max_evaluations=6, pop_size=2, seed=0,
                  workers=1, concurrency=1, backoff_s=0.01, cassette=str(cassette))
    with ChatServer(lambda body: ANSWER) as server:
        params["base_url"] = server.url
        result = run_search(ToyProblem(), SearchConfig.from_params(params), progress=False)
        first = server.code_requests()[0]["messages"]
    label, text = shown_prompt(ToyProblem(), result, params)
    assert label.startswith("The first prompt the model (scripted) received in this run: request 0")
    assert text == "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in first)
    replay_label, replay_text = shown_prompt(ToyProblem(), result, {**params, "proposer": "replay"})
    assert "received when the cassette was recorded" in replay_label and replay_text == text
    # A half-written last line (a killed run) is skipped; no cassette: the would-send prompt, labelled.
    cassette.write_text(cassette.read_text() + '{"key": "x", "mess', encoding="utf-8")
    assert recorded_prompt(cassette)[0] == 0
    label, _ = shown_prompt(ToyProblem(), result, {**params, "cassette": ""})
    assert label.startswith("Not sent: this run kept no cassette")


@pytest.mark.parametrize("reveal", [False, True])
def test_offline_prompt_is_labelled_and_quotes_the_optimum_only_when_asked(reveal) -> None:
    from amdlib.experiments.multi_item import run as exp

    params = load_params(get("multi_item"), REPO / "params/multi_item/smoke.yaml",
                         ["max_evaluations=2", f"reveal_optimum={str(reveal).lower()}"])
    prob = exp.make_problem(params)
    result = exp.search(prob, params, progress=False)
    label, text = shown_prompt(prob, result, params)
    assert label.startswith("Not sent: this run's proposer is offline") and "would send" in label
    assert prob.task.strip() in text and "[system]" in text and "[user]" in text
    assert prob.optimum is not None
    assert (f"{prob.optimum:.4f}" in text) == reveal and ("of the optimum" in text) == reveal
    json.dumps(text)  # plain text a notebook prints
