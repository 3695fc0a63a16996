"""make_proposer: the proposer named by the config, wired with the config's settings."""

from __future__ import annotations


import pytest

from amdlib.core.proposers.base import Proposer
from amdlib.core.proposers.cassette import RecordingProposer, ReplayProposer
from amdlib.core.engine import SearchConfig
from amdlib.core.proposers.factory import make_proposer, proposer_ledger
from amdlib.core.proposers.openai_client import OpenAIProposer
from amdlib.errors import UserError
from amdlib.problems.toy import ToyProblem


def config(**kw):
    return SearchConfig(**kw)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)


def test_offline() -> None:
    p = make_proposer(config(), ToyProblem())
    assert p.name == "offline" and isinstance(p, Proposer)
    assert proposer_ledger(p) == {}


def test_openai_takes_settings_from_config(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    p = make_proposer(config(proposer="openai", model="gpt-4o", base_url="https://api.example.com/v1",
                             temperature=0.3, max_llm_calls=7, max_cost_usd=1.5, concurrency=3), ToyProblem(),
                      max_tokens=321)
    assert isinstance(p, OpenAIProposer) and p.name == "openai"
    assert (p.model, p.base_url, p.temperature, p.max_tokens) == ("gpt-4o", "https://api.example.com/v1", 0.3, 321)
    assert p.sampling_params(5) == {"temperature": 0.3, "max_tokens": 321, "seed": 5}
    ledger = p.ledger
    assert (ledger["max_llm_calls"], ledger["max_cost_usd"], ledger["calls"], ledger["priced"]) == (7, 1.5, 0, True)
    assert "sk-from-env" not in repr(ledger)
    p.close()


def test_openai_falls_back_to_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8080/v1")
    monkeypatch.setenv("OPENAI_MODEL", "local-model")
    p = make_proposer(config(proposer="openai"), ToyProblem())
    assert (p.model, p.base_url, p.endpoint.local) == ("local-model", "http://localhost:8080/v1", True)
    p.close()


def test_openai_with_cassette_records(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    path = tmp_path / "out" / "c.jsonl"
    p = make_proposer(config(proposer="openai", model="m", cassette=str(path)), ToyProblem())
    assert isinstance(p, RecordingProposer) and p.name == "openai" and isinstance(p.inner, OpenAIProposer)
    assert p.ledger["cassette"] == str(path) and p.ledger["calls"] == 0
    p.close()
    assert path.exists()


def test_openai_without_key_for_a_remote_endpoint_is_a_user_error() -> None:
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        make_proposer(config(proposer="openai", model="gpt-4o"), ToyProblem())


def test_replay(tmp_path) -> None:
    with pytest.raises(UserError, match="needs a cassette"):
        make_proposer(config(proposer="replay"), ToyProblem())
    with pytest.raises(UserError, match="cassette not found"):
        make_proposer(config(proposer="replay", cassette=str(tmp_path / "none.jsonl")), ToyProblem())
    path = tmp_path / "empty.jsonl"
    path.write_text("", encoding="utf-8")
    p = make_proposer(config(proposer="replay", cassette=str(path)), ToyProblem())
    assert isinstance(p, ReplayProposer) and p.name == "replay" and p.ledger["calls"] == 0


def test_unknown_proposer() -> None:
    with pytest.raises(UserError, match="unknown proposer 'gpt'"):
        make_proposer(config(proposer="gpt"), ToyProblem())
