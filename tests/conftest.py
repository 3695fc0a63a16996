"""Shared fixtures: the real `amd` command in a subprocess, scratch outputs roots, YAML files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
import yaml
from hypothesis import settings

# Property tests are derandomised (the same examples on every run, so CI is reproducible) and
# have no per-example deadline (timings on a loaded 2-core machine are not what they test).
settings.register_profile("amdlib", derandomize=True, deadline=None)
settings.load_profile("amdlib")

REPO = Path(__file__).resolve().parents[1]
AMD = Path(sys.executable).with_name("amd")


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
