"""Every hostile program is contained, with a reason, in both policy modes; the sandbox stays usable."""

from __future__ import annotations

import os
import re
import socket
import time

import numpy as np
import pytest

from amdlib.core.sandbox import Sandbox
from tests.core.sandbox.conftest import X, assert_normal_job_works
from tests.core.sandbox.hostile import CORPUS, OK, Hostile

CASES = [pytest.param(h, mode, id=f"{h.name}-{mode}")
         for h in CORPUS for mode in ("policy", "runtime") if getattr(h, mode) is not None]


def test_corpus_is_large_and_named_uniquely() -> None:
    names = [h.name for h in CORPUS]
    assert len(names) >= 30
    assert len(set(names)) == len(names)


def _no_connection(listener: socket.socket) -> bool:
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


@pytest.mark.parametrize(("hostile", "mode"), CASES)
def test_hostile_program_is_contained(hostile: Hostile, mode: str, sandbox: Sandbox, raw_sandbox: Sandbox,
                                      watch_dir: str, listener: socket.socket) -> None:
    sb = sandbox if mode == "policy" else raw_sandbox
    keep = os.path.join(watch_dir, "keep")
    open(keep, "w").close()
    code = hostile.code.replace("{WATCH}", watch_dir).replace("{PORT}", str(listener.getsockname()[1]))
    started = time.monotonic()
    res = sb.run(code, "f", hostile.harness, {"x": X}, "hostile", timeout_s=hostile.timeout,
                 allowed_modules=("numpy", "math", *hostile.modules))
    elapsed = time.monotonic() - started
    expected = getattr(hostile, mode)
    if expected == OK:
        assert res.ok, res.reason
    else:
        assert not res.ok and res.outputs is None
        assert re.search(expected, res.reason), res.reason
        assert len(res.reason) <= 300
    if expected.startswith("^timeout"):
        # The kill comes within twice the limit (start-up of a worker excluded from seconds).
        assert hostile.timeout <= res.seconds < 2 * hostile.timeout
        assert elapsed < 2 * hostile.timeout + 30
    # No side effects: nothing written, nothing removed, no connection made.
    assert sorted(os.listdir(watch_dir)) == ["keep"]
    assert os.listdir(sb.workdir) == []
    assert _no_connection(listener)
    assert_normal_job_works(sb)
