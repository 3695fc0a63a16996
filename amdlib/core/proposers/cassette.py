"""Record and replay LLM exchanges (cassettes), so that an LLM-driven run reruns offline.

A cassette is a JSON Lines file, one exchange per line::

    {"key": ..., "index": 7, "model": ..., "messages": [...], "params": {...},
     "response": "...", "usage": {...}}

``key`` is the sha256 of a canonical JSON of the model, the messages, the
sampling parameters (temperature, max_tokens, seed) and the request's sample
index. Recording appends one line per exchange and flushes it at once, so a
killed run leaves a valid prefix. Replaying looks requests up by key; a
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

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Protocol

from amdlib.core.program import Proposal, ProposalRequest
from amdlib.core.proposers.ledger import Ledger, RunBudget, current_run
from amdlib.errors import BudgetExhausted, CassetteMiss, UserError

FIELDS = ("key", "index", "model", "messages", "params", "response", "usage")
BUDGET_MARK = "budget-exhausted"


def endpoint_seed(seed: int) -> int:
    """The sampling seed sent to an endpoint (31 bits: some servers reject larger ones)."""
    return int(seed) % (2**31)


def sampling_params(temperature: float, max_tokens: int, seed: int) -> dict[str, Any]:
    """The sampling parameters of one request, as sent and as keyed."""
    return {"temperature": float(temperature), "max_tokens": int(max_tokens), "seed": endpoint_seed(seed)}


def request_key(model: str, messages: list[dict[str, str]], params: dict[str, Any], index: int) -> str:
    """sha256 hex of the canonical JSON of one request (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(
        {"model": model, "messages": messages, "params": params, "index": int(index)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _repair_tail(path: Path) -> None:
    """Drop a partial last line (a run killed mid-write) so appends stay valid JSON Lines."""
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    with open(path, "r+b") as fh:
        fh.truncate(data.rfind(b"\n") + 1)


class CassetteWriter:
    """Appends exchanges to a cassette, one flushed line each (thread-safe)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _repair_tail(self.path)
            self._fh = open(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write the cassette {self.path} ({exc.strerror or exc}); choose another path") from exc
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any]) -> None:
        """Append one exchange and flush it to disk."""
        line = json.dumps({k: entry[k] for k in FIELDS}, ensure_ascii=False, sort_keys=False) + "\n"
        if "\n" in line[:-1]:  # json.dumps escapes newlines; a line must stay one line
            raise ValueError("cassette entry does not serialise to one line")
        with self._lock:
            self._fh.write(line)
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()


def load_cassette(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a cassette's exchanges in file order; a one-line UserError if it is unusable.

    A truncated last line (the run was killed while writing it) is ignored.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"cassette not found: {p}; record one with proposer openai and cassette {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the cassette {p} ({exc})") from None
    lines = text.split("\n")
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            if number == len(lines):  # no newline after it: a partial write
                break
            raise UserError(f"malformed cassette {p}: line {number} is not JSON") from None
        if not isinstance(entry, dict) or any(k not in entry for k in FIELDS):
            missing = [k for k in FIELDS if not isinstance(entry, dict) or k not in entry]
            raise UserError(f"malformed cassette {p}: line {number} lacks {', '.join(missing)}")
        entries.append(entry)
    return entries


class KeyedProposer(Protocol):
    """What recording needs from the wrapped proposer: its model and sampling parameters."""

    name: str

    @property
    def model(self) -> str: ...

    @property
    def ledger(self) -> dict[str, Any]: ...

    def sampling_params(self, seed: int) -> dict[str, Any]: ...

    def propose(self, request: ProposalRequest, seed: int) -> Proposal: ...

    def close(self) -> None: ...


def shown_path(path: Path) -> str:
    """How a ledger names a cassette: a run's own ``cassette.jsonl`` by its name (the run's
    working folder is renamed when the run is published), any other file by its path."""
    if path.name == "cassette.jsonl" and path.parent.name.startswith(".tmp-"):
        return path.name
    return str(path)


class RecordingProposer:
    """Wraps an LLM proposer and appends every exchange to a cassette.

    Exchanges the cassette already holds (an earlier attempt of the same run)
    are answered from it without a call; a budget refusal there is honoured.
    """

    def __init__(self, inner: KeyedProposer, path: str | os.PathLike[str]) -> None:
        self.inner = inner
        self.name = inner.name
        self.path = Path(path)
        self._recorded: dict[str, dict[str, Any]] = {}
        self._refused: set[str] = set()
        if self.path.is_file() and self.path.stat().st_size:
            for entry in load_cassette(self.path):
                if entry["key"] == BUDGET_MARK:
                    refused = (entry.get("params") or {}).get("refused")
                    if refused:
                        self._refused.add(str(refused))
                else:
                    self._recorded.setdefault(entry["key"], entry)
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
        admit = getattr(self.inner, "admit", None)
        ok = bool(admit(request, seed)) if callable(admit) else True
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
        ledger = getattr(self.inner, "budget_ledger", None)
        if isinstance(ledger, Ledger):
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

    def __init__(self, path: str | os.PathLike[str], run: RunBudget | None = None) -> None:
        if not str(path):
            raise UserError("proposer replay needs a cassette: set the cassette parameter to a recorded .jsonl file")
        self.path = Path(path)
        self.entries: list[dict[str, Any]] = []
        self._by_key: dict[str, dict[str, Any]] = {}
        self._by_index: dict[int, list[dict[str, Any]]] = {}
        refused: list[int] = []
        self._refused_keys: set[str] = set()
        for entry in load_cassette(self.path):
            if entry["key"] == BUDGET_MARK:
                refused_key = (entry.get("params") or {}).get("refused")
                if refused_key:
                    self._refused_keys.add(str(refused_key))
                else:
                    refused.append(int(entry["index"]))
                continue
            self.entries.append(entry)
            self._by_key.setdefault(entry["key"], entry)
            self._by_index.setdefault(int(entry["index"]), []).append(entry)
        #: The first request index a budget refused while recording (None: never).
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
