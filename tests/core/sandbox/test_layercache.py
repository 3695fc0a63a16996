"""The per-boot record of the sandbox layers that run records read instead of starting a zygote."""

from __future__ import annotations

import json
import os
import tempfile

import pytest

from amdlib.core.sandbox import layercache, pool

STATUS = {"seccomp": "on", "landlock": "off: not supported", "ast_policy": "on"}


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_remember_then_recall(private_tmp):
    assert layercache.recall() is None
    layercache.remember(STATUS)
    assert layercache.recall() == STATUS
    path = private_tmp / f"amdlib-layers-{os.geteuid()}.json"
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_record_of_another_boot_or_python_is_ignored(private_tmp):
    layercache.remember(STATUS)
    path = private_tmp / f"amdlib-layers-{os.geteuid()}.json"
    record = json.loads(path.read_text())
    record["stamp"]["boot_id"] = "another-boot"
    path.write_text(json.dumps(record))
    assert layercache.recall() is None
    calls = []
    assert layercache.machine_layers(lambda: calls.append(1) or {"seccomp": "probed"}) == {"seccomp": "probed"}
    assert calls == [1]


def test_writable_by_others_or_malformed_is_ignored(private_tmp):
    layercache.remember(STATUS)
    path = private_tmp / f"amdlib-layers-{os.geteuid()}.json"
    os.chmod(path, 0o666)
    assert layercache.recall() is None
    os.chmod(path, 0o600)
    record = json.loads(path.read_text())
    record["layers"] = {"seccomp": 1}
    path.write_text(json.dumps(record))
    assert layercache.recall() is None
    path.write_text("[")
    assert layercache.recall() is None


def test_a_default_sandbox_records_what_it_reports(private_tmp):
    with pool.Sandbox(workers=1, memory_mb=512) as sb:
        reported = sb.layers()
    assert layercache.recall() == reported
    assert pool.machine_layers() == reported  # no second zygote needed


def test_a_sandbox_with_layers_left_out_records_nothing(private_tmp):
    with pool.Sandbox(workers=1, memory_mb=512, kernel_layers=(), unsafe=True) as sb:
        assert sb.layers()["seccomp"].startswith("off")
    assert layercache.recall() is None
