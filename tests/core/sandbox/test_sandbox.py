"""The Sandbox on well-behaved candidates: outputs, warm reuse, payload caching, map, threads, layers."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from amdlib.core.sandbox import Job, Sandbox, SandboxResult, SandboxUnsafe, landlock
from amdlib.core.sandbox.pool import UNSAFE_ENV
from tests.core.sandbox.conftest import NORMAL, VECTORISED, X

ELEMENTWISE = "amdlib.core.sandbox.harnesses:elementwise"
TWO = "tests.core.sandbox.harnesses:two_outputs"


def test_outputs_are_correct(sandbox: Sandbox) -> None:
    res = sandbox.run(NORMAL, "f", VECTORISED, {"x": X}, "x8")
    assert isinstance(res, SandboxResult) and res.ok and res.reason == ""
    np.testing.assert_allclose(res.outputs["y"], np.sqrt(X) + 1.0)
    code = "from math import sqrt\n\ndef f(v):\n    return sqrt(v) if v > 2 else -v\n"
    res = sandbox.run(code, "f", ELEMENTWISE, {"x": X}, "x8")
    assert res.ok, res.reason
    assert res.outputs["y"].tolist() == [0.0, -1.0, -2.0] + [float(np.sqrt(v)) for v in X[3:]]


def test_output_dtypes_travel(sandbox: Sandbox) -> None:
    res = sandbox.run("def f(x):\n    return x - 3.5\n", "f", TWO, {"x": X}, "x8")
    assert res.ok, res.reason
    assert res.outputs["n"].dtype == np.int64 and int(res.outputs["n"]) == 8
    assert res.outputs["pos"].dtype == np.bool_ and res.outputs["pos"].tolist() == [False] * 4 + [True] * 4


def test_policy_rejection_needs_no_worker(sandbox: Sandbox) -> None:
    res = sandbox.run("def f(x):\n    return x.__class__\n", "f", VECTORISED, {"x": X}, "x8")
    assert not res.ok and res.reason == "policy: attribute '__class__' starts with '_' (line 2)"
    assert res.seconds < 0.5


def test_warm_workers_are_reused(sandbox: Sandbox) -> None:
    sandbox.run(NORMAL, "f", VECTORISED, {"x": X}, "x8")
    before = sandbox.worker_pids()
    for _ in range(10):
        assert sandbox.run(NORMAL, "f", VECTORISED, {"x": X}, "x8").ok
    assert sandbox.worker_pids() == before


def test_payload_is_sent_once_per_worker_and_cached_by_key(sandbox: Sandbox) -> None:
    big = {"x": np.linspace(0.0, 1.0, 200_000)}
    sends = sandbox.payload_sends
    for _ in range(6):
        res = sandbox.run(NORMAL, "f", VECTORISED, big, "big-1")
        assert res.ok and res.outputs["y"].shape == (200_000,)
    assert sandbox.payload_sends - sends <= sandbox.workers
    # The key identifies the payload: same key, other arrays -> the cached arrays are used.
    res = sandbox.run("def f(x):\n    return x * 0 + len(x)\n", "f", VECTORISED, {"x": np.zeros(3)}, "big-1")
    assert res.ok and float(res.outputs["y"][0]) == 200_000


def test_map_keeps_job_order(sandbox: Sandbox) -> None:
    jobs = [Job(f"def f(x):\n    return x * {i}\n", "f", VECTORISED, {"x": np.arange(float(i + 1))}, f"m{i}")
            for i in range(12)]
    results = sandbox.map(jobs)
    assert [r.ok for r in results] == [True] * 12
    for i, res in enumerate(results):
        assert res.outputs["y"].tolist() == [v * i for v in range(i + 1)]


def test_map_hands_results_to_consume_as_they_arrive(sandbox: Sandbox) -> None:
    seen: list[int] = []
    jobs = [Job(f"def f(x):\n    return x * {i}\n", "f", VECTORISED, {"x": X}, "x8") for i in range(9)]

    def consume(i: int, res: SandboxResult) -> float:
        assert threading.current_thread() is threading.main_thread()
        seen.append(i)
        return float(res.outputs["y"].sum())

    assert sandbox.map(jobs, consume) == [float(X.sum()) * i for i in range(9)]
    assert sorted(seen) == list(range(9))


def test_a_batch_past_its_budget_fails_the_excess_unless_consumed() -> None:
    code = "import numpy as np\n\ndef f(x):\n    return np.full(90_000, 1.0)\n"  # 0.7 MiB each
    jobs = [Job(f"{code}# {i}\n", "f", "tests.core.sandbox.harnesses:passthrough", {"x": X}, "x8") for i in range(4)]
    with Sandbox(workers=1, memory_mb=512, max_output_mb=1, max_batch_mb=1) as sb:
        held = sb.map(jobs)
        assert held[0].ok and [r.ok for r in held[1:]] == [False] * 3
        assert all("budget of 1 MiB" in r.reason for r in held[1:]), held[1].reason
        assert sb.map(jobs, lambda i, r: r.ok) == [True] * 4
        assert sb.run(code, "f", "tests.core.sandbox.harnesses:passthrough", {"x": X}, "x8").ok
    with pytest.raises(ValueError, match="max_batch_mb"):
        Sandbox(workers=1, max_output_mb=8, max_batch_mb=4)


def test_map_mixes_failures_without_shifting(sandbox: Sandbox) -> None:
    codes = ["def f(x):\n    return x\n", "def f(x):\n    raise ValueError('no')\n", "def f(x):\n    return x + 1\n"]
    results = sandbox.map([Job(c, "f", VECTORISED, {"x": X}, "x8") for c in codes])
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].reason == "ValueError: no"
    assert results[2].outputs["y"].tolist() == (X + 1).tolist()


def test_run_is_thread_safe(sandbox: Sandbox) -> None:
    out: dict[int, float] = {}

    def call(i: int) -> None:
        res = sandbox.run(f"def f(x):\n    return x * 0 + {i}\n", "f", VECTORISED, {"x": X}, "x8")
        out[i] = float(res.outputs["y"][0]) if res.ok else -1.0

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert out == {i: float(i) for i in range(8)}


def test_global_random_state_is_reset_per_job(sandbox: Sandbox) -> None:
    code = "import numpy as np\n\ndef f(x):\n    return x * 0 + np.random.random()\n"
    values = {float(r.outputs["y"][0]) for r in sandbox.map([Job(code, "f", VECTORISED, {"x": X}, "x8")] * 6)}
    assert values == {float(np.random.RandomState(0).random_sample())}


def test_declared_module_gets_a_worker_that_preloaded_it(sandbox: Sandbox) -> None:
    code = "import random\n\ndef f(x):\n    return x * 0 + random.random()\n"
    res = sandbox.run(code, "f", VECTORISED, {"x": X}, "x8", allowed_modules=("numpy", "math", "random"))
    assert res.ok, res.reason
    assert 0.0 <= float(res.outputs["y"][0]) < 1.0
    assert sandbox.run(NORMAL, "f", VECTORISED, {"x": X}, "x8").ok


def test_caller_mistakes_raise(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="harness"):
        sandbox.run(NORMAL, "f", "no_such_module_xyz:h", {"x": X}, "x8")
    with pytest.raises(ValueError, match="never be allowed"):
        sandbox.run(NORMAL, "f", VECTORISED, {"x": X}, "x8", allowed_modules=("os",))
    with pytest.raises(ValueError, match="timeout"):
        sandbox.run(NORMAL, "f", VECTORISED, {"x": X}, "x8", timeout_s=0)


def test_layers_say_what_holds(sandbox: Sandbox) -> None:
    layers = sandbox.layers()
    assert layers["seccomp"] == "on" and layers["rlimits"] == "on"
    assert layers["fresh_process_per_candidate"] == "on" and layers["empty_environment"] == "on"
    if landlock.abi():
        assert layers["landlock"] == f"on (ABI {landlock.abi()})"
    if os.geteuid() == 0:
        assert layers["privilege_drop"] == "on (nobody)" and layers["network_namespace"] == "on"
    else:
        assert layers["privilege_drop"] == "not needed (not root)"
    assert all(v.startswith(("on", "off: ", "not needed")) for v in layers.values())
    assert oct(os.stat(sandbox.workdir).st_mode & 0o777) == "0o555"


def test_candidates_run_in_fresh_processes(sandbox: Sandbox) -> None:
    code = "import numpy as np\n\ndef f(x):\n    return x * 0 + np.random.random()\n"
    # The zygotes persist, each candidate gets its own process: the same value every time.
    before = sandbox.worker_pids()
    values = {float(r.outputs["y"][0]) for r in sandbox.map([Job(code, "f", VECTORISED, {"x": X}, "x8")] * 4)}
    assert len(values) == 1 and sandbox.worker_pids() == before


def test_no_kernel_layer_refuses_unless_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UNSAFE_ENV, raising=False)
    with Sandbox(workers=1, memory_mb=512, kernel_layers=()) as sb:
        with pytest.raises(SandboxUnsafe, match="--unsafe-sandbox"):
            sb.run(NORMAL, "f", VECTORISED, {"x": X}, "x8")
    with Sandbox(workers=1, memory_mb=512, kernel_layers=(), unsafe=True) as sb:
        assert sb.run(NORMAL, "f", VECTORISED, {"x": X}, "x8").ok
        assert sb.layers()["seccomp"] == "off: not requested" and sb.layers()["landlock"] == "off: not requested"
    monkeypatch.setenv(UNSAFE_ENV, "1")
    with Sandbox(workers=1, memory_mb=512, kernel_layers=()) as sb:
        assert sb.run(NORMAL, "f", VECTORISED, {"x": X}, "x8").ok


def test_workers_are_recycled_and_closed() -> None:
    sb = Sandbox(workers=1, memory_mb=512, max_jobs_per_worker=2)
    pids = []
    for _ in range(3):
        assert sb.run(NORMAL, "f", VECTORISED, {"x": X}, "x8").ok
        pids.append(sb.worker_pids()[0])
    assert pids[0] == pids[1] != pids[2]
    sb.close()
    assert sb.worker_pids() == [None] and not os.path.exists(sb.workdir)
    with pytest.raises(RuntimeError, match="closed"):
        sb.run(NORMAL, "f", VECTORISED, {"x": X}, "x8")


IDIOMS = [
    "x.sum() + x.mean() + x.std() + x.max() + x.prod()", "np.linalg.eigh(np.eye(3))[0].sum()", "np.convolve(x, x).sum()",
    "np.percentile(x, 90)", "np.polyfit(x, x ** 2, 2)[0]", "np.random.default_rng(1).choice(x)", "len(np.array2string(x))",
    "np.ma.masked_array(x, x > 3).sum()", "np.fft.rfft(x).real.sum()", "np.linalg.lstsq(np.eye(8), x, rcond=None)[0].sum()",
    "np.lib.stride_tricks.sliding_window_view(x, 3).sum()", "math.erf(0.5) + math.comb(5, 2)", "np.unique(x, return_counts=True)[1].sum()",
]


def test_common_numpy_idioms_work(sandbox: Sandbox) -> None:
    # Several of these make numpy import private submodules through the candidate's builtins.
    jobs = [Job(f"import numpy as np\nimport math\n\ndef f(x):\n    return x * 0 + float({e})\n", "f", VECTORISED, {"x": X}, "x8")
            for e in IDIOMS]
    failures = {e: r.reason for e, r in zip(IDIOMS, sandbox.map(jobs)) if not r.ok}
    assert failures == {}
