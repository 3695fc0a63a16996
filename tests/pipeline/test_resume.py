"""A run's cassette outlives failed and killed attempts (amdlib.pipeline.resume)."""

from __future__ import annotations

import os
import subprocess
import sys

from amdlib.pipeline import resume


def lines(path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_failed_attempt_is_kept_then_seeds_the_next_and_goes_away_when_published(tmp_path) -> None:
    root, exp, rid = tmp_path, "quickstart", "abc123"
    work = root / exp / f".tmp-{rid}-1"
    work.mkdir(parents=True)
    (work / "cassette.jsonl").write_text('{"a": 1}\n{"b": 2}\n{"half', encoding="utf-8")
    resume.finish(work, root, exp, rid, ok=False)
    kept = resume.kept_path(root, exp, rid)
    assert lines(kept) == ['{"a": 1}', '{"b": 2}']  # the half-written line is dropped
    again = root / exp / f".tmp-{rid}-2"
    again.mkdir()
    assert resume.start(again, root, exp, rid) > 0 and lines(again / "cassette.jsonl") == lines(kept)
    with open(again / "cassette.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"c": 3}\n')
    resume.finish(again, root, exp, rid, ok=False)  # replaced, not appended twice
    assert lines(kept) == ['{"a": 1}', '{"b": 2}', '{"c": 3}']
    resume.finish(again, root, exp, rid, ok=True)
    assert not kept.exists()


def test_killed_attempts_are_salvaged_but_live_ones_are_left_alone(tmp_path) -> None:
    root, exp, rid = tmp_path, "quickstart", "def456"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_dir = root / exp / f".tmp-{rid}-{int(dead.stdout)}"
    live_dir = root / exp / f".tmp-{rid}-{os.getpid()}"
    for d, text in ((dead_dir, '{"dead": 1}\n'), (live_dir, '{"live": 1}\n')):
        d.mkdir(parents=True)
        (d / "cassette.jsonl").write_text(text, encoding="utf-8")
    resume.salvage(root, exp, rid)
    assert lines(resume.kept_path(root, exp, rid)) == ['{"dead": 1}']
    assert not (dead_dir / "cassette.jsonl").exists() and (live_dir / "cassette.jsonl").exists()
