"""The private mount namespace: the file-system layer where Landlock is unavailable."""

from __future__ import annotations

import os
import sys

import numpy as np

from amdlib.core.sandbox import Sandbox

from tests.core.sandbox.conftest import VECTORISED, X

# Real builtins (no Python layer): the candidate asks the kernel directly which paths exist.
PROBE = """
import os
PATHS = {paths!r}

def f(x):
    seen = sum(os.path.exists(p) for p in PATHS)
    return x * 0.0 + seen
"""


def test_without_landlock_the_file_system_is_an_empty_read_only_root():
    paths = ["/etc/passwd", "/proc/1", "/tmp", sys.executable, os.getcwd()]
    assert sum(os.path.exists(p) for p in paths) == len(paths)  # all there for the parent
    with Sandbox(workers=1, memory_mb=512, ast_policy=False, python_layer=False,
                 kernel_layers=("mount_namespace",), unsafe=True) as sb:
        status = sb.layers()
        assert status["mount_namespace"] == "on (empty read-only root)", status
        assert status["landlock"] == "off: not requested"
        res = sb.run(PROBE.format(paths=paths), "f", VECTORISED, {"x": X}, "mnt", timeout_s=20.0)
    assert res.ok, res.reason
    np.testing.assert_array_equal(res.outputs["y"], np.zeros_like(X))


def test_with_landlock_the_mount_namespace_is_not_needed(sandbox):
    status = sandbox.layers()
    if status["landlock"].startswith("on"):
        assert status["mount_namespace"] == "not needed (Landlock on)"
    else:
        assert status["mount_namespace"].startswith(("on", "off: "))
