"""Nothing paid for is lost: a run's cassette survives failures and kills, and a rerun resumes it.

An LLM run records every exchange to ``cassette.jsonl`` in its working dir as
it goes. When the run fails, that file is kept beside the run as
``<experiment>/<run_id>.cassette.jsonl``; when it was killed, the next attempt
salvages it from the dead working dir. The next attempt of the same run starts
from the kept exchanges: the recording proposer answers those from the file
and asks the endpoint only for the rest. Once the run is published, its own
``cassette.jsonl`` holds everything and the kept file is removed.
"""

from __future__ import annotations

from pathlib import Path

from amdlib.pipeline import runs

CASSETTE = "cassette.jsonl"


def kept_path(root: Path, experiment: str, rid: str) -> Path:
    """Where the exchanges of unfinished attempts of a run are kept."""
    return root / experiment / f"{rid}.{CASSETTE}"


def _complete_lines(path: Path) -> bytes:
    """The file's bytes up to its last newline (a killed writer may leave half a line)."""
    try:
        data = path.read_bytes()
    except OSError:
        return b""
    return data[: data.rfind(b"\n") + 1]


def keep(cassette: Path, root: Path, experiment: str, rid: str) -> None:
    """Append an attempt's exchanges to the run's kept cassette."""
    data = _complete_lines(cassette)
    if data:
        target = kept_path(root, experiment, rid)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "ab") as fh:
            fh.write(data)


def salvage(root: Path, experiment: str, rid: str) -> None:
    """Keep the cassettes of killed attempts (working dirs of dead processes) before they are removed."""
    for tmp in (root / experiment).glob(f".tmp-{rid}-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not runs.pid_alive(int(pid)) and (tmp / CASSETTE).is_file():
            keep(tmp / CASSETTE, root, experiment, rid)
            (tmp / CASSETTE).unlink(missing_ok=True)


def start(work: Path, root: Path, experiment: str, rid: str) -> int:
    """Seed the new attempt's cassette with the kept exchanges; returns how many bytes were kept."""
    kept = kept_path(root, experiment, rid)
    data = _complete_lines(kept)
    if data:
        (work / CASSETTE).write_bytes(data)
    return len(data)


def finish(work: Path, root: Path, experiment: str, rid: str, ok: bool) -> None:
    """After an attempt: drop the kept file when the run is published, else keep this attempt's exchanges."""
    kept = kept_path(root, experiment, rid)
    if ok:
        kept.unlink(missing_ok=True)
        return
    cassette = work / CASSETTE
    if cassette.is_file():
        # The attempt started from the kept exchanges, so its file holds them all: replace, not append.
        data = _complete_lines(cassette)
        if data:
            tmp = kept.with_name(f".{kept.name}.tmp")
            tmp.write_bytes(data)
            tmp.replace(kept)
