"""Each kernel layer holds on its own; the parent survives hostile frames; stale folders go."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

from amdlib.core.sandbox import Sandbox, codec, landlock, seccomp, workdir
from amdlib.core.sandbox.process import check_result
from tests.core.sandbox.conftest import SECRET, VECTORISED, X, assert_normal_job_works
from tests.core.sandbox.hostile_kernel import CHAIN

# With the Python layer off, each attempt's outcome comes back as the failure reason.
PROBE = CHAIN + """

def f(x):
    os, sys, bl = real()
    out = [type(attempt(bl.open, '{WATCH}/w', 'w')).__name__,
           type(attempt(lambda: bl.open('/proc/{PID}/environ', 'rb').read())).__name__,
           type(attempt(os.mkdir, '{WATCH}/d')).__name__,
           type(attempt(os.kill, {PID}, 9)).__name__,
           type(attempt(lambda: members(sys)['modules']['socket'].socket().connect(('127.0.0.1', 9)))).__name__]
    raise ValueError(' '.join(out))
"""


@pytest.mark.parametrize("layer", ["seccomp", "landlock"])
def test_each_kernel_filter_without_the_other_stops_files_environ_and_signals(
        layer: str, watch_dir: str, bystander: subprocess.Popen) -> None:
    # The other layers stay on (namespaces, rlimits: RLIMIT_NOFILE=0 stops opens too, and the PID
    # namespace hides the bystander), so this shows that neither filter is the only wall.
    if layer == "landlock" and landlock.abi() < 6:
        pytest.skip("signal scoping needs Landlock ABI 6")
    code = PROBE.replace("{WATCH}", watch_dir).replace("{PID}", str(bystander.pid))
    with Sandbox(workers=1, memory_mb=512, ast_policy=False, python_layer=False, kernel_layers=(layer,)) as sb:
        assert sb.layers()[layer].startswith("on")
        assert sb.layers()[{"seccomp": "landlock", "landlock": "seccomp"}[layer]] == "off: not requested"
        res = sb.run(code, "f", VECTORISED, {"x": X}, "x8")
        assert_normal_job_works(sb)
    # Every attempt failed with an OS error.
    names = res.reason.removeprefix("ValueError: ").split()
    errors = ("PermissionError", "OSError", "ConnectionRefusedError", "ProcessLookupError")
    assert len(names) == 5 and all(n in errors for n in names), res.reason
    assert os.listdir(watch_dir) in ([], ["keep"]) and bystander.poll() is None and SECRET not in res.reason


def test_seccomp_program_checks_arguments() -> None:
    insns = seccomp.program(3, 1234)
    assert len(insns) < 100 and all(0 <= jt <= 255 and 0 <= jf <= 255 for _c, jt, jf, _k in insns)
    ks = [k for _c, _jt, _jf, k in insns]
    assert 3 in ks and 1234 in ks and seccomp.AUDIT_ARCH_X86_64 in ks
    assert len(seccomp.assemble(insns)) == 8 * len(insns)
    # Calls that reach outside the process are not in the unconditional allow-list.
    for name in ("write", "tgkill"):
        assert name not in seccomp.X86_64_ALLOWED
    assert not {41, 42, 56, 57, 59, 62, 101, 257, 424, 434} & set(seccomp.X86_64_ALLOWED.values())


def test_seccomp_filter_in_a_forked_process() -> None:
    # Install the real filter in a child and see what it allows.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 0
        try:
            os.dup2(w, 3)
            seccomp.Filter(3).install(os.getpid())
            os.write(3, b"ok")
            # Nothing that reaches out, nothing that says whether another process exists.
            other = os.getppid()
            for call in (lambda: os.write(1, b"x"), os.getcwd, os.fork, lambda: os.open("/etc/hostname", os.O_RDONLY),
                         lambda: resource.prlimit(other, resource.RLIMIT_NOFILE), lambda: os.sched_getaffinity(other),
                         lambda: time.clock_getres((~other << 3) | 2), lambda: time.clock_gettime((~other << 3) | 2)):
                try:
                    call()
                    code |= 1
                except PermissionError:
                    pass
            # What numpy and Python ask about the process itself still works.
            resource.getrlimit(resource.RLIMIT_AS), os.sched_getaffinity(0), time.process_time(), time.thread_time()
            time.clock_gettime(time.CLOCK_MONOTONIC), time.sleep(0.001)
            np.linalg.inv(np.eye(3) * 2.0).sum()
        except BaseException:
            code |= 2
        os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    assert os.read(r, 10) == b"ok"
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize(("header", "arrays", "reason"), [
    ({"kind": "result", "ok": True, "id": 2}, {}, "not this job's result"),
    ({"kind": "result", "ok": 1, "id": 1}, {}, "not this job's result"),
    ({"kind": "result", "ok": True, "id": 1, "recycle": True}, {}, "unexpected header fields"),
    ({"kind": "result", "ok": False, "id": 1, "reason": ["x"]}, {}, "bad failure report"),
    ({"kind": "result", "ok": False, "id": 1, "reason": "x"}, {"y": np.zeros(2)}, "bad failure report"),
    ({"kind": "result", "ok": True, "id": 1, "worker_seconds": "1"}, {}, "bad worker_seconds"),
    ({"kind": "result", "ok": True, "id": 1}, {"y": np.array([np.nan])}, "non-finite"),
    ([1, 2], {}, "unexpected header"),
])
def test_result_frames_are_checked(header: object, arrays: dict, reason: str) -> None:
    outcome = check_result(header, arrays, 1)
    assert not outcome.ok and reason in outcome.reason


def test_valid_result_frame_passes() -> None:
    outcome = check_result({"kind": "result", "ok": True, "id": 5, "worker_seconds": 0.1}, {"y": np.ones(3)}, 5)
    assert outcome.ok and outcome.outputs["y"].tolist() == [1.0, 1.0, 1.0]


def test_decoder_rejects_layouts_encode_never_writes() -> None:
    body = memoryview(bytearray(64))
    for specs in ([["y", ["f8"], [8], 0]], [["y", "f8", [4], 0], ["z", "f8", [4], 0]], [["y", "f8", [4], 8]],
                  [["y", "f8", [4], 0]], [["y", "f8", [0, 1 << 60], 0]], [["y", "f8", [True], 0]]):
        with pytest.raises(codec.ProtocolError):
            codec.decode_arrays(specs, body)
    assert codec.decode_arrays([["y", "f8", [4], 0], ["z", "f8", [4], 32]], body)["z"].shape == (4,)


def test_stale_folders_of_dead_owners_are_removed() -> None:
    with tempfile.TemporaryDirectory() as root:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout.strip()
        stale = os.path.join(root, f"{workdir.PREFIX}{dead}-abc")
        live = os.path.join(root, f"{workdir.PREFIX}{os.getppid()}-abc")
        other = os.path.join(root, f"{workdir.PREFIX}xyz")
        for path in (stale, live, other):
            os.mkdir(path)
        os.chmod(stale, 0o555)
        assert workdir.clean_stale(root) == [stale]
        assert sorted(os.listdir(root)) == sorted(os.path.basename(p) for p in (live, other))


def test_a_killed_parent_leaves_nothing_behind_after_the_next_start() -> None:
    script = ("from amdlib.core.sandbox import Sandbox; import os, sys\n"
              "sb = Sandbox(workers=1, memory_mb=512); print(sb.workdir, flush=True); os._exit(0)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    left = out.stdout.strip()
    assert os.path.isdir(left)
    with Sandbox(workers=1, memory_mb=512) as sb:
        assert not os.path.exists(left) and os.path.isdir(sb.workdir)
