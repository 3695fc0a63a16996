"""The openai proposer against a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from amdlib.core.program import ProposalRequest
from amdlib.core.proposers.cassette import RecordingProposer, ReplayProposer
from amdlib.core.proposers.openai_client import PLACEHOLDER_KEY, OpenAIProposer, resolve_endpoint
from amdlib.errors import BudgetExhausted, UserError
from tests.core.proposers.chat_server import JsonHandler, ThreadedServer, closed_port, error

KEY = "sk-test-SECRET-0123456789"
CODE = "def f(x):\n    return x + 1\n"


def completion(text: str = CODE, prompt_tokens: int = 11, completion_tokens: int = 7) -> dict[str, Any]:
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "fake-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class FakeEndpoint(ThreadedServer):
    """A scripted chat endpoint: pops queued (status, body) answers, then answers ``default``."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, Any]]] = []
        self.default: tuple[int, dict[str, Any]] = (200, completion())
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str] = []
        self.delay_s = 0.0
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()
        endpoint = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "served-model", "object": "model", "owned_by": "me"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with endpoint.lock:
                    endpoint.requests.append(body)
                    endpoint.auth.append(self.headers.get("Authorization", ""))
                    status, answer = endpoint.script.pop(0) if endpoint.script else endpoint.default
                    endpoint.active += 1
                    endpoint.max_active = max(endpoint.max_active, endpoint.active)
                time.sleep(endpoint.delay_s)
                with endpoint.lock:
                    endpoint.active -= 1
                self._send(status, answer)

        super().__init__(Handler)


@pytest.fixture
def fake():
    endpoint = FakeEndpoint()
    with endpoint:
        yield endpoint


def make(fake: FakeEndpoint, **kw: Any) -> OpenAIProposer:
    kw.setdefault("model", "fake-model")
    kw.setdefault("env", {"OPENAI_API_KEY": KEY})
    kw.setdefault("backoff_s", 0.01)
    kw.setdefault("timeout_s", 5.0)
    return OpenAIProposer(base_url=fake.url, **kw)


def request(index: int = 0, text: str = "write f") -> ProposalRequest:
    return ProposalRequest(index=index, operator="i1", parents=[], messages=[{"role": "user", "content": text}])


def test_retries_rate_limit_and_5xx_then_counts_tokens(fake: FakeEndpoint) -> None:
    fake.script = [error(429, "slow down", "rate_limit_exceeded"), error(500), error(503)]
    prop = make(fake, temperature=0.7, max_tokens=123)
    out = prop.propose(request(), seed=2**31 + 5)
    assert out.text == CODE and out.model == "fake-model"
    assert len(fake.requests) == 4
    sent = fake.requests[-1]
    assert (sent["model"], sent["temperature"], sent["max_tokens"], sent["seed"]) == ("fake-model", 0.7, 123, 5)
    ledger = prop.ledger
    assert (ledger["calls"], ledger["retries"], ledger["failures"]) == (1, 3, 0)
    assert (ledger["prompt_tokens"], ledger["completion_tokens"], ledger["total_tokens"]) == (11, 7, 18)
    assert ledger["cost_usd"] == 0.0 and ledger["priced"] is False
    assert KEY not in json.dumps(ledger)
    prop.close()


def test_bad_credentials_are_one_line_user_error(fake: FakeEndpoint) -> None:
    fake.default = error(401, f"Incorrect API key provided: {KEY}", "invalid_api_key")
    prop = make(fake)
    with pytest.raises(UserError) as info:
        prop.propose(request(), seed=0)
    msg = str(info.value)
    assert "\n" not in msg and "OPENAI_API_KEY" in msg and "401" in msg and fake.url in msg
    assert KEY not in msg
    assert len(fake.requests) == 1  # no retry on bad credentials
    assert prop.ledger["calls"] == 0 and prop.ledger["failures"] == 1


def test_unreachable_endpoint_fails_fast() -> None:
    port = closed_port()
    prop = OpenAIProposer(model="m", base_url=f"http://127.0.0.1:{port}/v1", env={}, backoff_s=0.01)
    start = time.monotonic()
    with pytest.raises(UserError) as info:
        prop.propose(request(), seed=0)
    assert time.monotonic() - start < 5
    msg = str(info.value)
    assert "\n" not in msg and f"127.0.0.1:{port}" in msg and "amd llm-server" in msg and "OPENAI_BASE_URL" in msg


def test_persistent_5xx_gives_up_after_max_retries(fake: FakeEndpoint) -> None:
    fake.default = error(502)
    prop = make(fake, max_retries=2)
    with pytest.raises(UserError, match="kept failing"):
        prop.propose(request(), seed=0)
    assert len(fake.requests) == 3


def test_key_resolution_and_local_placeholder(fake: FakeEndpoint) -> None:
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        resolve_endpoint("gpt-4o", "https://api.example.com/v1", env={})
    with pytest.raises(UserError, match="OPENAI_MODEL"):
        resolve_endpoint("", "https://api.example.com/v1", env={"OPENAI_API_KEY": KEY})
    ep = resolve_endpoint("", "", env={"OPENAI_BASE_URL": fake.url + "/", "OPENAI_MODEL": "env-model"})
    assert (ep.base_url, ep.model, ep.api_key, ep.local) == (fake.url, "env-model", PLACEHOLDER_KEY, True)
    assert PLACEHOLDER_KEY not in repr(ep)
    # No model and a local endpoint: the served model is asked for; no key: the placeholder is sent.
    prop = OpenAIProposer(base_url=fake.url, env={})
    prop.propose(request(), seed=1)
    assert fake.requests[0]["model"] == "served-model" and prop.ledger["model"] == "served-model"
    assert fake.auth == [f"Bearer {PLACEHOLDER_KEY}"]


def test_call_budget_raises_before_the_call(fake: FakeEndpoint) -> None:
    prop = make(fake, max_llm_calls=3)
    for i in range(3):
        prop.propose(request(i), seed=i)
    with pytest.raises(BudgetExhausted):
        prop.propose(request(3), seed=3)
    assert len(fake.requests) == 3
    assert prop.ledger["stopped_by_budget"] == "max_llm_calls"


def test_cost_budget_raises_before_the_call(fake: FakeEndpoint) -> None:
    # gpt-4o: $2.50 per million prompt tokens -> $0.25 per call here.
    fake.default = (200, completion(prompt_tokens=100_000, completion_tokens=0))
    prop = make(fake, model="gpt-4o", max_cost_usd=0.6)
    prop.propose(request(0), seed=0)
    prop.propose(request(1), seed=1)
    with pytest.raises(BudgetExhausted):
        prop.propose(request(2), seed=2)  # would reach $0.75 > $0.60
    assert len(fake.requests) == 2
    assert prop.ledger["cost_usd"] == pytest.approx(0.5) and prop.ledger["priced"] is True


def test_concurrency_is_bounded_and_budget_holds_across_threads(fake: FakeEndpoint) -> None:
    fake.delay_s = 0.15
    prop = make(fake, concurrency=2, max_llm_calls=5)
    outcomes: list[str] = []

    def call(i: int) -> None:
        try:
            prop.propose(request(i), seed=i)
            outcomes.append("ok")
        except BudgetExhausted:
            outcomes.append("budget")

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["budget"] * 3 + ["ok"] * 5
    assert len(fake.requests) == 5 and fake.max_active == 2
    assert prop.ledger["calls"] == 5


def test_recorded_cassette_never_holds_the_key_and_replays(fake: FakeEndpoint, tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    rec = RecordingProposer(make(fake, max_tokens=64), path)
    answers = [rec.propose(request(i, f"prompt {i}"), seed=10 + i).text for i in range(3)]
    rec.close()
    text = path.read_text()
    assert KEY not in text and "SECRET" not in text
    assert len(text.splitlines()) == 3
    replay = ReplayProposer(path)
    again = [replay.propose(request(i, f"prompt {i}"), seed=10 + i).text for i in range(3)]
    assert again == answers
    assert replay.ledger["calls"] == 3 and replay.ledger["prompt_tokens"] == 33
