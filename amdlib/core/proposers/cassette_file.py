"""The cassette file: request keys, and reading and writing its JSON Lines.

A cassette is a JSON Lines file, one exchange per line::

    {"key": ..., "index": 7, "model": ..., "messages": [...], "params": {...},
     "response": "...", "usage": {...}}

``key`` is the sha256 of a canonical JSON of the model, the messages, the
sampling parameters (temperature, max_tokens, seed) and the request's sample
index. Recording appends one line per exchange and flushes it at once, so a
killed run leaves a valid prefix. A budget's refusal is a marker line (key
``budget-exhausted``, empty messages, the refused request's key under
``params.refused``; older cassettes give only its index). What the proposers
do with them: :mod:`amdlib.core.proposers.cassette`.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amdlib.errors import UserError

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


@dataclass(frozen=True)
class Recorded:
    """A cassette read for lookups: its exchanges and its budget marks."""

    entries: list[dict[str, Any]] = field(default_factory=list)  # the exchanges (no marks), in file order
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)  # the first exchange of each key
    refused_keys: set[str] = field(default_factory=set)  # requests a budget refused, marked with their key
    refused_indices: list[Any] = field(default_factory=list)  # older marks: only the refused request's index


def read_recorded(path: str | os.PathLike[str]) -> Recorded:
    """Read a cassette (see :func:`load_cassette`) and sort its lines into exchanges and budget marks."""
    recorded = Recorded()
    for entry in load_cassette(path):
        if entry["key"] != BUDGET_MARK:
            recorded.entries.append(entry)
            recorded.by_key.setdefault(entry["key"], entry)
        elif (entry.get("params") or {}).get("refused"):
            recorded.refused_keys.add(str(entry["params"]["refused"]))
        else:
            recorded.refused_indices.append(entry["index"])
    return recorded


def shown_path(path: Path) -> str:
    """How a ledger names a cassette: a run's own ``cassette.jsonl`` by its name (the run's
    working folder is renamed when the run is published), any other file by its path."""
    if path.name == "cassette.jsonl" and path.parent.name.startswith(".tmp-"):
        return path.name
    return str(path)
