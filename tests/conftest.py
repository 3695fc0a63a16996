"""Shared fixtures: the real `amd` command in a subprocess, scratch outputs roots, YAML files."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest
import yaml
from hypothesis import settings

# Property tests are derandomised (the same examples on every run, so CI is reproducible) and
# have no per-example deadline (timings on a loaded 2-core machine are not what they test).
settings.register_profile("amdlib", derandomize=True, deadline=None)
settings.load_profile("amdlib")

REPO = Path(__file__).resolve().parents[1]
AMD = Path(sys.executable).with_name("amd")


@contextlib.contextmanager
def environment_lock() -> Iterator[None]:
    """Hold this interpreter's environment while pip changes it or a test reads its installed set.

    Tests in the two xdist workers install and uninstall packages (the plugin, the scaffold's
    project) in the running environment; a worker listing distributions at that moment meets a
    half-written dist-info with no name. One lock file per environment (keyed by its prefix, so a
    root and an unprivileged run never share it) keeps those steps apart.
    """
    key = hashlib.sha256(sys.prefix.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"amdlib-test-env-{os.getuid()}-{key}.lock"
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def amd_env(outputs: Path | None = None) -> dict[str, str]:
    """Environment for child commands: no inherited outputs root or Agg backend surprises."""
    env = dict(os.environ)
    env.pop("AMDLIB_NO_WRITE", None)
    if outputs is not None:
        env["AMDLIB_OUTPUTS"] = str(outputs)
    return env


def amd_argv(*args: str) -> list[str]:
    """The command line of ``amd ARGS...`` (the installed console script)."""
    return [str(AMD), *args] if AMD.exists() else [sys.executable, "-m", "amdlib", *args]


@pytest.fixture
def amd() -> Callable[..., subprocess.CompletedProcess]:
    """Run ``amd ARGS...`` and capture its output."""

    def run(*args: str, outputs: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(amd_argv(*args), cwd=REPO, env=amd_env(outputs), capture_output=True, text=True, timeout=timeout)

    return run


@pytest.fixture
def amd_popen() -> Callable[..., subprocess.Popen]:
    """Start ``amd ARGS...`` in its own session (so a test can kill it with its kernels)."""

    def start(*args: str, outputs: Path | None = None) -> subprocess.Popen:
        return subprocess.Popen(amd_argv(*args), cwd=REPO, env=amd_env(outputs), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)

    return start


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[str, object], Path]:
    """Write a YAML file (a dict, or raw text) under tmp_path and return its path."""

    def write(name: str, content: object) -> Path:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content), encoding="utf-8")
        return path

    return write
