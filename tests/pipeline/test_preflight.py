"""LLM settings are checked before any kernel starts: one line, exit 2, nothing new under outputs/.

The endpoint checks use a real chat-completions server on 127.0.0.1 and a closed port for "unreachable".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from amdlib.pipeline import preflight
from tests.conftest import REPO
from tests.core.proposers.chat_server import ChatServer, closed_port


@pytest.fixture(autouse=True)
def no_llm_env(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def server():
    with ChatServer(models=("my-local-model",)) as s:
        yield s


def assert_refused(done, outputs: Path, *needles: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("amd: error: ") and "Traceback" not in done.stderr, done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not outputs.exists() or not any(p.is_file() for p in outputs.rglob("*")), sorted(outputs.rglob("*"))


def test_replay_without_missing_or_malformed_cassette(amd, tmp_path) -> None:
    out = tmp_path / "out"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n{}\n", encoding="utf-8")
    cases = [
        ([], ["needs a cassette"]),
        (["--set", f"cassette={tmp_path / 'none.jsonl'}"], ["cassette not found", "none.jsonl"]),
        (["--set", f"cassette={bad}"], ["malformed cassette", "line 1 is not JSON"]),
    ]
    for extra, needles in cases:
        done = amd("run", "quickstart", "-p", "params/quickstart/smoke.yaml", "--set", "proposer=replay", *extra,
                   outputs=out)
        assert_refused(done, out, *needles)


def test_openai_without_key_unreachable_or_unpriced(amd, tmp_path, server, monkeypatch) -> None:
    out = tmp_path / "out"
    base = ["run", "quickstart", "-p", "params/quickstart/smoke.yaml", "--set", "proposer=openai"]
    done = amd(*base, "--set", "base_url=https://api.example.com/v1", "--set", "model=gpt-4o", outputs=out)
    assert_refused(done, out, "no API key", "OPENAI_API_KEY")
    port = closed_port()
    done = amd(*base, "--set", f"base_url=http://127.0.0.1:{port}/v1", outputs=out)
    assert_refused(done, out, "cannot reach the LLM endpoint", f"127.0.0.1:{port}")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-preflight-SECRET")
    done = amd(*base, "--set", f"base_url={server.url}", "--set", "max_cost_usd=1", outputs=out)
    assert_refused(done, out, "'my-local-model' is not in the LLM price table", "price_in")
    assert server.code_requests() == []  # nothing was ever asked of the endpoint


def test_a_sweep_is_checked_before_its_first_run(amd, tmp_path, write_yaml) -> None:
    out = tmp_path / "out"
    sweep = write_yaml("s.yaml", {"experiment": "quickstart", "base": str(REPO / "params/quickstart/smoke.yaml"), "seeds": [0, 1],
                                  "runs": [{"proposer": "openai", "base_url": f"http://127.0.0.1:{closed_port()}/v1"}]})
    assert_refused(amd("sweep", str(sweep), outputs=out), out, "cannot reach the LLM endpoint")


def test_check_returns_the_estimate_line_for_a_reachable_endpoint(server) -> None:
    from amdlib.experiments import get
    from amdlib.pipeline.params import validate

    params = validate(get("quickstart"), {"proposer": "openai", "base_url": server.url, "max_evaluations": 24,
                                          "price_in": 1.0, "price_out": 2.0, "max_cost_usd": 1.0}, "test")
    line = preflight.check("quickstart", params)
    assert line.startswith("LLM estimate for quickstart on my-local-model: 24 calls in 1 search(es)")
    assert "within max_cost_usd=1" in line
    assert preflight.check("quickstart", {**params, "proposer": "offline"}) == ""


def test_amd_estimate_prints_each_search_and_the_total(amd) -> None:
    done = amd("estimate", "redistribution", "-p", "paper", "--set", "model=deepseek-chat")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "$0.27 in / $1.1 out per million tokens" in lines[0]
    rows = [line for line in lines if " funsearch " in line]
    assert len(rows) == 2 + 5  # the main setting, the NNA distillation, the five other table settings
    total = next(line for line in lines if line.startswith("total"))
    assert int(total.split(")")[1].split()[0].replace(",", "")) == 200 + 100 + 5 * 100
    assert any(line.startswith("LLM estimate for redistribution on deepseek-chat: 800 calls in 7 search(es)")
               for line in lines)


def test_estimate_counts_the_papers_generations_and_refuses_nothing_offline() -> None:
    from amdlib.experiments import get
    from amdlib.pipeline.estimate import estimate
    from amdlib.pipeline.params import load_params

    params = load_params(get("facility_location"), REPO / "params/facility_location/paper.yaml")
    est = estimate("facility_location", params)
    (search,) = est.searches
    assert search.calls == 16 * (1 + 4 * 20) and search.strategy_calls == 2 * (20 // 3)
    assert est.price == {"input": 0.15, "output": 0.6} and est.cost() > 0
