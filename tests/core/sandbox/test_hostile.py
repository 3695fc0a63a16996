"""Every hostile program is contained in all three modes; the sandbox stays usable and exact.

Modes: ``policy`` (production), ``runtime`` (no AST policy), ``kernel`` (no
AST policy and no Python layer: seccomp, Landlock, namespaces and rlimits
alone). The same assertions hold as root and as an unprivileged user.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import time

import numpy as np
import pytest

from amdlib.core.sandbox import Sandbox
from tests.core.sandbox import hostile_kernel
from tests.core.sandbox.conftest import SECRET, X, normal_jobs
from tests.core.sandbox.hostile import CONTAINED, CORPUS, OK, Hostile

ALL = CORPUS + hostile_kernel.KERNEL_CORPUS
MODES = ("policy", "runtime", "kernel")
CASES = [pytest.param(h, mode, id=f"{h.name}-{mode}") for h in ALL for mode in MODES if getattr(h, mode) is not None]


def test_corpus_is_large_and_named_uniquely() -> None:
    names = [h.name for h in ALL]
    assert len(names) >= 80
    assert len(set(names)) == len(names)


def _no_connection(listener: socket.socket) -> bool:
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def _no_datagram(sock: socket.socket) -> bool:
    try:
        sock.recv(64)
    except BlockingIOError:
        return True
    return False


def _traced(pid: int) -> bool:
    with open(f"/proc/{pid}/status") as fh:
        return any(line.startswith("TracerPid:") and line.split()[1] != "0" for line in fh)


@pytest.fixture
def places() -> dict[str, str]:
    """Fresh paths in /dev/shm and $HOME that no attack may create."""
    token = secrets.token_hex(6)
    return {"{SHM}": f"/dev/shm/amdlib-hostile-{token}",
            "{HOME}": os.path.join(os.path.expanduser("~"), f"amdlib-hostile-{token}")}


@pytest.mark.parametrize(("hostile", "mode"), CASES)
def test_hostile_program_is_contained(hostile: Hostile, mode: str, request: pytest.FixtureRequest, watch_dir: str,
                                      listener: socket.socket, udp_listener: socket.socket,
                                      bystander: subprocess.Popen, places: dict[str, str],
                                      fresh_scores: list[np.ndarray]) -> None:
    sb: Sandbox = request.getfixturevalue({"policy": "sandbox", "runtime": "raw_sandbox",
                                           "kernel": "kernel_sandbox"}[mode])
    keep = os.path.join(watch_dir, "keep")
    open(keep, "w").close()
    code = hostile.code
    for key, value in {"{WATCH}": watch_dir, "{PORT}": str(listener.getsockname()[1]),
                       "{UDP}": str(udp_listener.getsockname()[1]), "{PID}": str(bystander.pid),
                       "{PARENT}": str(os.getpid()), **places}.items():
        code = code.replace(key, value)
    started = time.monotonic()
    res = sb.run(code, "f", hostile.harness, {"x": X}, "hostile", timeout_s=hostile.timeout,
                 allowed_modules=("numpy", "math", *hostile.modules))
    elapsed = time.monotonic() - started
    expected = getattr(hostile, mode)
    if expected == OK:
        assert res.ok, res.reason
    elif expected != CONTAINED:
        assert not res.ok and res.outputs is None
        assert re.search(expected, res.reason), res.reason
    assert len(res.reason) <= 300
    if expected.startswith("^timeout"):
        # The kill comes within twice the limit (start-up of a worker excluded from seconds).
        assert hostile.timeout <= res.seconds < 2 * hostile.timeout
        assert elapsed < 2 * hostile.timeout + 30
    # No side effects: nothing written or removed, no connection, no signal, no leak.
    leftovers = [p for p in places.values() if os.path.lexists(p)]
    for path in leftovers:
        os.rmdir(path) if os.path.isdir(path) else os.remove(path)
    assert leftovers == []
    assert sorted(os.listdir(watch_dir)) == ["keep"]
    assert os.listdir(sb.workdir) == []
    assert _no_connection(listener) and _no_datagram(udp_listener)
    assert bystander.poll() is None and not _traced(bystander.pid)
    assert SECRET not in res.reason
    # Three normal candidates afterwards score exactly as on a fresh sandbox.
    after = sb.map(normal_jobs())
    assert [r.reason for r in after] == ["", "", ""]
    for got, want in zip(after, fresh_scores):
        np.testing.assert_array_equal(got.outputs["y"], want)


def test_the_attack_chain_works_without_a_sandbox() -> None:
    # The chain is real: in an ordinary interpreter it reaches os and builtins, and the secret is readable.
    namespace: dict = {}
    exec(hostile_kernel.CHAIN, namespace)
    os_mod, sys_mod, bl = namespace["real"]()
    assert os_mod is os and bl.open is open and sys_mod.modules["os"] is os
