"""Record and replay LLM exchanges (cassettes), so that an LLM-driven run reruns offline.

The file (one JSON line per exchange, keyed by the request) is
:mod:`amdlib.core.proposers.cassette_file`. Replaying looks requests up by key; a
request the cassette does not hold is a :class:`~amdlib.errors.CassetteMiss`.
Credentials are never part of an exchange, so they never reach the file.

When a budget refuses a request during recording, a marker line (key
``budget-exhausted``, empty messages, the refused request's key under
``params.refused``) is written for it. On replay, that request raises
``BudgetExhausted`` instead of a miss, so the replay stops exactly where the
recording did. (Older cassettes mark only the index: a missing request at or
beyond the first refused index stops the replay.)

Recording resumes: a cassette that already holds a request's exchange (a run
that failed or was killed, then rerun) answers it from the file, charged to the
run's ledger as the call it was, and only the rest is sent to the endpoint.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from amdlib.core.program import Proposal, ProposalRequest
from amdlib.core.proposers.cassette_file import (  # noqa: F401 (re-exported: the cassette's public API)
    BUDGET_MARK, FIELDS, CassetteWriter, Recorded, endpoint_seed, load_cassette, read_recorded, request_key,
    sampling_params, shown_path,
)
from amdlib.core.proposers.ledger import Ledger, RunBudget, current_run
from amdlib.errors import BudgetExhausted, CassetteMiss, UserError


class KeyedProposer(Protocol):
    """What recording needs from the wrapped proposer: its model and sampling parameters."""

    name: str

    @property
    def model(self) -> str: ...

    @property
    def ledger(self) -> dict[str, Any]: ...

    @property
    def budget_ledger(self) -> Ledger: ...

    def admit(self, request: ProposalRequest, seed: int) -> bool: ...

    def sampling_params(self, seed: int) -> dict[str, Any]: ...

    def propose(self, request: ProposalRequest, seed: int) -> Proposal: ...

    def close(self) -> None: ...


class RecordingProposer:
    """Wraps an LLM proposer and appends every exchange to a cassette.

    Exchanges the cassette already holds (an earlier attempt of the same run)
    are answered from it without a call; a budget refusal there is honoured.
    """

    def __init__(self, inner: KeyedProposer, path: str | os.PathLike[str]) -> None:
        self.inner = inner
        self.name = inner.name
        self.writes_prose = True
        self.path = Path(path)
        earlier = read_recorded(self.path) if self.path.is_file() and self.path.stat().st_size else Recorded()
        self._recorded, self._refused = earlier.by_key, earlier.refused_keys
        self._writer = CassetteWriter(self.path)

    def _key(self, request: ProposalRequest, seed: int) -> str:
        return request_key(self.inner.model, request.messages, self.inner.sampling_params(seed), request.index)

    def _mark(self, request: ProposalRequest, key: str) -> None:
        if key not in self._refused:
            self._refused.add(key)
            self._writer.write({"key": BUDGET_MARK, "index": request.index, "model": self.inner.model,
                                "messages": [], "params": {"refused": key}, "response": "", "usage": {}})

    def admit(self, request: ProposalRequest, seed: int) -> bool:
        """Reserve the budget for ``request`` (a recorded exchange counts as the call it was)."""
        key = self._key(request, seed)
        ok = bool(self.inner.admit(request, seed))
        if not ok:
            self._mark(request, key)
        return ok

    def propose(self, request: ProposalRequest, seed: int) -> Proposal:
        key = self._key(request, seed)
        hit = self._recorded.get(key)
        if hit is not None:
            return self._resume(request, hit)
        try:
            proposal = self.inner.propose(request, seed)
        except BudgetExhausted:
            self._mark(request, key)
            raise
        model = self.inner.model
        params = self.inner.sampling_params(seed)
        self._writer.write(
            {
                "key": request_key(model, request.messages, params, request.index),
                "index": request.index,
                "model": model,
                "messages": request.messages,
                "params": params,
                "response": proposal.text,
                "usage": proposal.usage,
            }
        )
        return proposal

    def _resume(self, request: ProposalRequest, entry: dict[str, Any]) -> Proposal:
        """Answer from an earlier attempt's recording, charging the run as that call did."""
        usage = dict(entry.get("usage") or {})
        ledger = self.inner.budget_ledger
        ledger.reserve(request.index, request.messages)
        ledger.record(usage, model=entry["model"], index=request.index, resumed=True)
        return Proposal(text=entry["response"], usage=usage, model=entry["model"])

    @property
    def ledger(self) -> dict[str, Any]:
        return {**self.inner.ledger, "cassette": shown_path(self.path)}

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self._writer.close()


class ReplayProposer:
    """Answers requests from a cassette: no endpoint, no key, bit-for-bit the recorded run.

    Budgets need not be given again: where the recording was stopped by one,
    the cassette says so (see the module docstring) and the replay stops there.
    """

    name = "replay"
    writes_prose = True

    def __init__(self, path: str | os.PathLike[str], run: RunBudget | None = None) -> None:
        if not str(path):
            raise UserError("proposer replay needs a cassette: set the cassette parameter to a recorded .jsonl file")
        self.path = Path(path)
        recorded = read_recorded(self.path)
        self.entries = recorded.entries
        self._by_key = recorded.by_key
        self._refused_keys = recorded.refused_keys
        self._by_index: dict[int, list[dict[str, Any]]] = {}
        for entry in self.entries:
            self._by_index.setdefault(int(entry["index"]), []).append(entry)
        refused = [int(index) for index in recorded.refused_indices]
        #: The first request index a budget refused while recording, by an older mark (None: never).
        self.budget_from: int | None = min(refused) if refused else None
        model = self.entries[0]["model"] if self.entries else ""
        # No caps on replay: the marks say where the recorded run's budget stopped it.
        self._ledger = Ledger(model, source="replay", enforce=False, run=run or current_run())

    def _expected_key(self, request: ProposalRequest, seed: int, like: dict[str, Any] | None) -> str:
        """The key this request would have had, recorded with ``like``'s model and parameters."""
        if like is None:
            return request_key("", request.messages, {}, request.index)
        params = dict(like["params"])
        if "seed" in params:
            params["seed"] = endpoint_seed(seed)
        return request_key(like["model"], request.messages, params, request.index)

    def lookup(self, request: ProposalRequest, seed: int) -> dict[str, Any]:
        """The recorded exchange of ``request``, or raise CassetteMiss."""
        candidates = self._by_index.get(int(request.index), [])
        for entry in candidates:
            hit = self._by_key.get(self._expected_key(request, seed, entry))
            if hit is not None:
                return hit
        if self._refused_keys:
            likes = candidates or self.entries[:1]
            if any(self._expected_key(request, seed, like) in self._refused_keys for like in likes):
                raise BudgetExhausted("the recorded run's LLM budget refused this request")
        if self.budget_from is not None and request.index >= self.budget_from:
            raise BudgetExhausted(f"the recorded run's LLM budget ran out at request {self.budget_from}")
        like = candidates[0] if candidates else (self.entries[0] if self.entries else None)
        key = self._expected_key(request, seed, like)
        why = "holds a different request at that index" if candidates else "does not hold it"
        raise CassetteMiss(
            f"cassette miss: request {request.index} (key {key[:12]}) - {self.path} {why};"
            f" rerun with proposer openai and cassette {self.path} to record it"
        )

    def admit(self, request: ProposalRequest, seed: int) -> bool:
        """False exactly where the recorded run's budget refused this request."""
        try:
            self.lookup(request, seed)
        except BudgetExhausted:
            return False
        except CassetteMiss:
            return True  # propose() raises the miss with its message
        return True

    def propose(self, request: ProposalRequest, seed: int) -> Proposal:
        self._ledger.reserve(request.index)
        try:
            entry = self.lookup(request, seed)
        except BaseException:
            self._ledger.release(failed=False, index=request.index)
            raise
        usage = dict(entry.get("usage") or {})
        self._ledger.record(usage, model=entry["model"], index=request.index)
        return Proposal(text=entry["response"], usage=usage, model=entry["model"])

    @property
    def ledger(self) -> dict[str, Any]:
        return {**self._ledger.to_dict(), "cassette": shown_path(self.path)}

    def close(self) -> None:
        pass
