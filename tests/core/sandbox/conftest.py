"""Shared sandboxes and bystanders for the sandbox tests (a zygote starts in ~0.5 s)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
from typing import Iterator

import numpy as np
import pytest

from amdlib.core.sandbox import Job, Sandbox

VECTORISED = "amdlib.core.sandbox.harnesses:vectorised"
NORMAL = "import numpy as np\n\ndef f(x):\n    return np.sqrt(x) + 1.0\n"
X = np.arange(8.0)
#: Three well-behaved candidates that depend on state a hostile one could leave behind:
#: numpy functions, the global random state, and warnings / floating-point error settings.
NORMALS = [
    NORMAL,
    "import numpy as np\nimport math\n\ndef f(x):\n    return x * np.random.random() + math.log(1 + x.sum())\n",
    "import numpy as np\n\ndef f(x):\n    return np.nan_to_num(np.log(x), neginf=-1.0) * 2.0\n",
]
SECRET = "amdlib-test-secret-" + secrets.token_hex(8)


def assert_normal_job_works(sb: Sandbox) -> None:
    """A well-behaved candidate still gets correct outputs on this sandbox."""
    res = sb.run(NORMAL, "f", VECTORISED, {"x": X}, "normal", timeout_s=20.0)
    assert res.ok, res.reason
    np.testing.assert_allclose(res.outputs["y"], np.sqrt(X) + 1.0)


def normal_jobs() -> list[Job]:
    return [Job(code, "f", VECTORISED, {"x": X}, "normal", timeout_s=20.0) for code in NORMALS]


@pytest.fixture(scope="session")
def fresh_scores() -> list[np.ndarray]:
    """The normal candidates' outputs on a sandbox that never saw anything else."""
    with Sandbox(workers=1, memory_mb=512) as sb:
        results = sb.map(normal_jobs())
    assert all(r.ok for r in results), [r.reason for r in results]
    return [r.outputs["y"] for r in results]


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
def kernel_sandbox() -> Iterator[Sandbox]:
    """AST policy and Python layer off: the kernel layers alone."""
    with Sandbox(workers=2, memory_mb=512, ast_policy=False, python_layer=False) as sb:
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


@pytest.fixture(scope="session")
def udp_listener() -> Iterator[socket.socket]:
    """A UDP socket on 127.0.0.1 that hostile code tries to send to."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    yield sock
    sock.close()


@pytest.fixture(scope="session")
def bystander() -> Iterator[subprocess.Popen]:
    """A process of this user with a secret in its environment (it stands for the parent)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                            env={"AMDLIB_TEST_SECRET": SECRET}, stdin=subprocess.DEVNULL)
    yield proc
    proc.kill()
    proc.wait()
