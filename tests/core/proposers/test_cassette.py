"""Cassettes: stable keys, record then replay, misses, damaged files."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from amdlib.core.program import Proposal, ProposalRequest
from amdlib.core.proposers.ledger import Ledger
from amdlib.core.proposers.cassette import (
    CassetteWriter,
    RecordingProposer,
    ReplayProposer,
    load_cassette,
    request_key,
    sampling_params,
)
from amdlib.errors import BudgetExhausted, CassetteMiss, UserError

MESSAGES = [{"role": "system", "content": "You design auctions."}, {"role": "user", "content": "write f – π"}]


class StubLLM:
    """An LLM stand-in whose answer depends on the request index and seed."""

    name = "openai"

    def __init__(self) -> None:
        self.model = "stub-model"
        self.calls = 0
        self.closed = False
        self.refuse: set[int] = set()
        self.budget_ledger = Ledger(self.model)

    def admit(self, request: ProposalRequest, seed: int) -> bool:
        return True

    def sampling_params(self, seed: int) -> dict[str, Any]:
        return sampling_params(0.8, 256, seed)

    def propose(self, request: ProposalRequest, seed: int) -> Proposal:
        if request.index in self.refuse:
            raise BudgetExhausted("stub budget")
        self.calls += 1
        text = f"def f(x):\n    return x * {request.index} + {seed}  # é\n"
        return Proposal(text=text, usage={"prompt_tokens": 10 + request.index, "completion_tokens": 5}, model=self.model)

    @property
    def ledger(self) -> dict[str, Any]:
        return {"calls": self.calls}

    def close(self) -> None:
        self.closed = True


def req(index: int, messages: list[dict[str, str]] = MESSAGES) -> ProposalRequest:
    return ProposalRequest(index=index, operator="e1", parents=[], messages=messages)


def record(path, n: int = 4, seed0: int = 100) -> list[str]:
    rec = RecordingProposer(StubLLM(), path)
    texts = [rec.propose(req(i), seed=seed0 + i).text for i in range(n)]
    rec.close()
    return texts


def test_request_key_is_stable_and_sensitive() -> None:
    params = sampling_params(0.8, 256, 7)
    key = request_key("m", MESSAGES, params, 3)
    # Pinned: the canonical form (sorted keys, compact, UTF-8) must not drift between versions.
    canonical = (
        '{"index":3,"messages":[{"content":"You design auctions.","role":"system"},'
        '{"content":"write f – π","role":"user"}],"model":"m",'
        '"params":{"max_tokens":256,"seed":7,"temperature":0.8}}'
    )
    assert key == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert key == "c27934ec20aaa7626fe8c1dd25e25cbbe15fac2928999d68d2efb587bbe7c1e6"
    assert key == request_key("m", [dict(reversed(list(m.items()))) for m in MESSAGES], dict(reversed(list(params.items()))), 3)
    others = {
        request_key("m2", MESSAGES, params, 3),
        request_key("m", MESSAGES[:1], params, 3),
        request_key("m", MESSAGES, sampling_params(0.9, 256, 7), 3),
        request_key("m", MESSAGES, sampling_params(0.8, 256, 8), 3),
        request_key("m", MESSAGES, params, 4),
    }
    assert key not in others and len(others) == 5
    assert sampling_params(1, 10, 2**31 + 3) == {"temperature": 1.0, "max_tokens": 10, "seed": 3}


def test_record_writes_one_line_per_exchange_then_replays_identically(tmp_path) -> None:
    path = tmp_path / "sub" / "c.jsonl"
    texts = record(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4
    first = json.loads(lines[0])
    assert list(first) == ["key", "index", "model", "messages", "params", "response", "usage"]
    assert first["key"] == request_key("stub-model", MESSAGES, sampling_params(0.8, 256, 100), 0)
    assert first["response"] == texts[0] and first["usage"] == {"prompt_tokens": 10, "completion_tokens": 5}

    replay = ReplayProposer(path)
    # Out of order (as concurrent workers would ask) and bit for bit.
    got = {i: replay.propose(req(i), seed=100 + i) for i in (2, 0, 3, 1)}
    assert [got[i].text for i in range(4)] == texts
    assert got[0].model == "stub-model" and got[1].usage == {"prompt_tokens": 11, "completion_tokens": 5}
    ledger = replay.ledger
    assert (ledger["source"], ledger["calls"], ledger["prompt_tokens"], ledger["completion_tokens"]) == ("replay", 4, 46, 20)


def test_miss_names_index_key_and_path(tmp_path) -> None:
    path = tmp_path / "c.jsonl"
    record(path, n=2)
    replay = ReplayProposer(path)
    with pytest.raises(CassetteMiss) as info:
        replay.propose(req(5), seed=105)
    msg = str(info.value)
    assert isinstance(info.value, UserError) and "\n" not in msg
    expected = request_key("stub-model", MESSAGES, sampling_params(0.8, 256, 105), 5)
    assert "request 5" in msg and expected[:12] in msg and str(path) in msg and "proposer openai" in msg
    # Same index, but another prompt or another seed: a miss too (the run diverged).
    with pytest.raises(CassetteMiss, match="different request"):
        replay.propose(req(1, [{"role": "user", "content": "other"}]), seed=101)
    with pytest.raises(CassetteMiss, match="request 1 "):
        replay.propose(req(1), seed=999)
    assert replay.ledger["calls"] == 0


def test_replay_stops_where_the_recording_ran_out_of_budget(tmp_path) -> None:
    path = tmp_path / "c.jsonl"
    inner = StubLLM()
    inner.refuse = {3, 5}  # as a cost budget under concurrency may
    rec = RecordingProposer(inner, path)
    # A concurrent batch: request 4 was answered before request 3 was refused.
    texts = {i: rec.propose(req(i), seed=100 + i).text for i in (0, 1, 2)}
    for i in (3, 5):
        with pytest.raises(BudgetExhausted):
            rec.propose(req(i), seed=100 + i)
    texts[4] = rec.propose(req(4), seed=104).text
    rec.close()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(e["key"] == "budget-exhausted", e["index"]) for e in lines] == [
        (False, 0), (False, 1), (False, 2), (True, 3), (True, 5), (False, 4)]
    assert lines[3]["messages"] == [] and lines[3]["response"] == ""

    assert lines[3]["params"]["refused"] == request_key("stub-model", MESSAGES, sampling_params(0.8, 256, 103), 3)

    replay = ReplayProposer(path)
    assert replay.budget_from is None  # marks name the refused requests, not an index
    assert [replay.propose(req(i), seed=100 + i).text for i in range(3)] == [texts[i] for i in range(3)]
    assert replay.propose(req(4), seed=104).text == texts[4]  # recorded: served
    for i in (3, 5):
        assert replay.admit(req(i), seed=100 + i) is False
        with pytest.raises(BudgetExhausted):
            replay.propose(req(i), seed=100 + i)
    assert replay.admit(req(4), seed=104) is True
    for i, seed in ((1, 7), (9, 109)):  # never refused while recording: a miss is a miss
        with pytest.raises(CassetteMiss):
            replay.propose(req(i), seed=seed)


def test_replay_of_an_old_index_marked_cassette_stops_at_the_first_refused_index(tmp_path) -> None:
    path = tmp_path / "old.jsonl"
    record(path, n=2)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"key": "budget-exhausted", "index": 2, "model": "stub-model", "messages": [],
                             "params": {}, "response": "", "usage": {}}) + "\n")
    replay = ReplayProposer(path)
    assert replay.budget_from == 2
    with pytest.raises(BudgetExhausted):
        replay.propose(req(7), seed=107)


def test_recording_resumes_from_what_the_cassette_already_holds(tmp_path) -> None:
    path = tmp_path / "resume.jsonl"
    first = record(path, n=3)
    inner = StubLLM()
    rec = RecordingProposer(inner, path)
    again = [rec.propose(req(i), seed=100 + i).text for i in range(5)]
    rec.close()
    assert again[:3] == first and inner.calls == 2  # only requests 3 and 4 were asked
    assert len(path.read_text(encoding="utf-8").splitlines()) == 5


def test_bad_cassettes_are_one_line_user_errors(tmp_path) -> None:
    with pytest.raises(UserError, match="cassette not found"):
        ReplayProposer(tmp_path / "nope.jsonl")
    with pytest.raises(UserError, match="needs a cassette"):
        ReplayProposer("")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"key": 1}\n', encoding="utf-8")
    with pytest.raises(UserError, match="line 1 lacks index"):
        load_cassette(bad)
    bad.write_text("not json\n{}\n", encoding="utf-8")
    with pytest.raises(UserError, match="line 1 is not JSON"):
        load_cassette(bad)
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(UserError) as info:
        load_cassette(tmp_path / "dir.jsonl")
    assert "\n" not in str(info.value)


def test_killed_run_leaves_a_usable_prefix(tmp_path) -> None:
    path = tmp_path / "c.jsonl"
    texts = record(path, n=3)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"key": "abc", "index": 3, "mod')  # killed mid-write
    assert len(load_cassette(path)) == 3
    # Recording again repairs the tail before appending.
    writer = CassetteWriter(path)
    writer.close()
    assert path.read_text(encoding="utf-8").endswith("\n") and len(load_cassette(path)) == 3
    replay = ReplayProposer(path)
    assert replay.propose(req(2), seed=102).text == texts[2]


def test_recording_closes_the_inner_proposer(tmp_path) -> None:
    inner = StubLLM()
    rec = RecordingProposer(inner, tmp_path / "c.jsonl")
    assert rec.name == "openai" and rec.ledger["cassette"].endswith("c.jsonl")
    rec.close()
    assert inner.closed
