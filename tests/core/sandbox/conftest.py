"""Shared sandboxes for the sandbox tests (starting workers costs ~0.5 s each)."""

from __future__ import annotations

import os
import socket
import tempfile
from typing import Iterator

import numpy as np
import pytest

from amdlib.core.sandbox import Sandbox

VECTORISED = "amdlib.core.sandbox.harnesses:vectorised"
NORMAL = "import numpy as np\n\ndef f(x):\n    return np.sqrt(x) + 1.0\n"
X = np.arange(8.0)


def assert_normal_job_works(sb: Sandbox) -> None:
    """A well-behaved candidate still gets correct outputs on this sandbox."""
    res = sb.run(NORMAL, "f", VECTORISED, {"x": X}, "normal", timeout_s=20.0)
    assert res.ok, res.reason
    np.testing.assert_allclose(res.outputs["y"], np.sqrt(X) + 1.0)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The production configuration: AST policy on."""
    with Sandbox(workers=2, memory_mb=512) as sb:
        yield sb


@pytest.fixture(scope="session")
def raw_sandbox() -> Iterator[Sandbox]:
    """AST policy off, so hostile code reaches the run-time layers."""
    with Sandbox(workers=2, memory_mb=512, ast_policy=False) as sb:
        yield sb


@pytest.fixture(scope="session")
def watch_dir() -> Iterator[str]:
    """A world-writable directory hostile code tries to write into."""
    with tempfile.TemporaryDirectory(prefix="amdlib-watch-") as path:
        os.chmod(path, 0o777)
        yield path


@pytest.fixture(scope="session")
def listener() -> Iterator[socket.socket]:
    """A TCP listener on 127.0.0.1 that hostile code tries to reach."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()
