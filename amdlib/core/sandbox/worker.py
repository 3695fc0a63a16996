"""The sandbox worker process: ``python -m amdlib.core.sandbox.worker --spec JSON``.

Protocol (see ``codec``): the parent writes jobs on the worker's stdin and the
worker answers on its stdout; both are moved to private descriptors at start
and fds 0-2 then point to /dev/null, so whatever a candidate prints is lost.

At start the worker imports numpy, math, the job's allowed modules and the
harness modules named in the spec, then hardens itself (``jail``) and says
``ready``. After that it imports nothing: a job that needs another module
gets a new worker from the parent.

Per job: look up the payload (cached by key, read-only), check the policy,
compile the candidate into a fresh namespace with restricted builtins and a
guarded ``__import__``, and call ``harness(fn, payload)``. Only the harness's
dict of float64/int64/bool arrays goes back, or a one-line reason.
"""

from __future__ import annotations

import argparse
import builtins
import collections
import importlib
import json
import math
import os
import sys
import time
import warnings
from typing import Any, Callable

import numpy as np

from amdlib.core.sandbox import codec, jail
from amdlib.core.sandbox.policy import BASE_MODULES, DENIED_ATTRIBUTES, check_policy

#: numpy subpackages loaded up front (nothing can be imported after start).
NUMPY_EXTRAS = ("numpy.linalg", "numpy.fft", "numpy.random", "numpy.polynomial", "numpy.ma",
                "numpy.lib.stride_tricks", "numpy.lib.scimath")
SAFE_BUILTINS = (
    "abs all any ascii bin bool bytes callable chr complex dict divmod enumerate filter float "
    "format frozenset hash hex int isinstance issubclass iter len list map max min next oct ord "
    "pow range repr reversed round set slice sorted str sum tuple zip True False None "
    "NotImplemented Ellipsis ArithmeticError AssertionError AttributeError Exception "
    "FloatingPointError IndexError KeyError LookupError NameError NotImplementedError "
    "OverflowError RuntimeError StopIteration TypeError ValueError ZeroDivisionError"
).split()
MAX_REASON = 300
MAX_OUTPUTS = 64


def _quiet_print(*_args: Any, **_kwargs: Any) -> None:
    """``print`` for candidates: output is discarded (megabytes cost nothing)."""


def _guarded_import(allowed: tuple[str, ...]) -> Callable[..., Any]:
    """``__import__`` for candidates: already-loaded modules of allowed packages only.

    C code called from a candidate frame (numpy's ``.sum()`` importing
    ``numpy._core._methods``) imports through the candidate's builtins too, so
    private submodules of an allowed package pass here; the AST policy keeps
    candidates themselves from naming them.
    """
    roots = {m.partition(".")[0] for m in (*BASE_MODULES, *allowed)}

    def guarded(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        parts = name.split(".") if isinstance(name, str) else [""]
        if level != 0 or parts[0] not in roots or any(p in DENIED_ATTRIBUTES for p in parts):
            raise ImportError(f"import of '{name}' is not allowed")
        module = sys.modules.get(name)
        if module is None:
            raise ImportError(f"module '{name}' is not available in the sandbox")
        return module if fromlist else sys.modules[parts[0]]

    return guarded


def restricted_globals(allowed: tuple[str, ...]) -> dict[str, Any]:
    """A fresh namespace for one candidate: safe builtins only."""
    safe = {name: getattr(builtins, name) for name in SAFE_BUILTINS}
    safe["print"] = _quiet_print
    safe["__import__"] = _guarded_import(allowed)
    return {"__builtins__": safe, "__name__": "candidate"}


def _reason(err: BaseException) -> str:
    try:
        text = f"{type(err).__name__}: {err}"
    except BaseException:  # a message that cannot be rendered is still a failure
        text = type(err).__name__
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def collect_outputs(raw: Any, max_bytes: int) -> dict[str, np.ndarray]:
    """Validate the harness's return value and convert it to wire arrays."""
    if not isinstance(raw, dict):
        raise TypeError(f"harness returned {type(raw).__name__}, not a dict of arrays")
    if len(raw) > MAX_OUTPUTS:
        raise ValueError(f"more than {MAX_OUTPUTS} outputs")
    out: dict[str, np.ndarray] = {}
    total = 0
    for key, value in raw.items():
        if type(key) is not str or len(key) > 200:
            raise TypeError("output names must be short strings")
        if not isinstance(value, (np.ndarray, np.generic, int, float, bool)):
            raise TypeError(f"output '{key}' is {type(value).__name__}, not an array")
        total += np.asarray(value).nbytes
        if total > max_bytes:
            raise ValueError(f"outputs larger than {max_bytes >> 20} MiB")
        out[key] = codec.wire_array(value)
    return out


class PayloadCache:
    """Payloads by key, least recently used evicted past ``entries`` or ``max_bytes``."""

    def __init__(self, entries: int, max_bytes: int) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self._items: collections.OrderedDict[str, dict[str, np.ndarray]] = collections.OrderedDict()

    def put(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        self._items[key] = arrays
        self._items.move_to_end(key)
        while len(self._items) > 1 and (len(self._items) > self.entries or self._bytes() > self.max_bytes):
            self._items.popitem(last=False)

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        arrays = self._items.get(key)
        if arrays is not None:
            self._items.move_to_end(key)
        return arrays

    def _bytes(self) -> int:
        return sum(a.nbytes for arrays in self._items.values() for a in arrays.values())


class Worker:
    """The worker's state: limits, loaded harnesses, cached payloads."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.max_output = int(spec["max_output_mb"]) << 20
        self.cache = PayloadCache(int(spec["cache_entries"]), int(spec["memory_mb"]) << 18)
        self.default_err = np.geterr()

    def run(self, job: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        """Handle one job header; returns the reply header (outputs under ``"outputs"``)."""
        key = str(job["key"])
        if job.get("has_payload"):
            self.cache.put(key, arrays)
        payload = self.cache.get(key)
        if payload is None:
            return {"kind": "need_payload"}
        code, entry = str(job["code"]), str(job["entry"])
        allowed = tuple(str(m) for m in job["modules"])
        if job.get("policy", True):
            problem = check_policy(code, entry, allowed)
            if problem:
                return {"kind": "result", "ok": False, "reason": f"policy: {problem}"}
        module_name, _, func_name = str(job["harness"]).partition(":")
        harness = getattr(sys.modules.get(module_name), func_name, None)
        if not callable(harness):
            return {"kind": "result", "ok": False, "reason": f"harness {job['harness']} not loaded"}
        jail.set_cpu_budget(float(job["timeout"]))
        self._reset_shared_state()
        try:
            outputs = self._call(code, entry, allowed, harness, payload)
        except MemoryError:
            return {"kind": "result", "ok": False, "reason": "memory limit exceeded", "recycle": True}
        except RecursionError:
            return {"kind": "result", "ok": False, "reason": "recursion limit exceeded"}
        except BaseException as err:  # SystemExit, KeyboardInterrupt ... are the candidate's too
            return {"kind": "result", "ok": False, "reason": _reason(err)}
        return {"kind": "result", "ok": True, "outputs": outputs}

    def _call(self, code: str, entry: str, allowed: tuple[str, ...], harness: Callable[..., Any],
              payload: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        compiled = compile(code, "<candidate>", "exec", dont_inherit=True)
        namespace = restricted_globals(allowed)
        jail.allow_exec(compiled)
        try:
            exec(compiled, namespace)
        finally:
            jail.allow_exec(None)
        fn = namespace.get(entry)
        if not callable(fn):
            raise TypeError(f"'{entry}' is not a function")
        return collect_outputs(harness(fn, dict(payload)), self.max_output)

    def _reset_shared_state(self) -> None:
        # Candidates share numpy's global state within a worker: reset it so
        # results do not depend on which worker ran what before.
        np.random.seed(0)
        np.seterr(**self.default_err)
        if "random" in sys.modules:
            sys.modules["random"].seed(0)


def _prepare(spec: dict[str, Any]) -> dict[str, Any]:
    """Import everything, warm numpy up, harden the process; returns facts for ``ready``."""
    warnings.simplefilter("ignore")
    for name in (*NUMPY_EXTRAS, *BASE_MODULES, *spec["modules"], *spec["harness_modules"]):
        importlib.import_module(name)
    # First calls of some numpy functions import or compile lazily: do it now.
    x = np.linspace(0.0, 1.0, 11)
    np.percentile(x, 50), np.median(x), np.quantile(x, 0.5), np.histogram(x), str(x)
    np.random.default_rng(0).random(2), np.unique(x), np.interp(0.5, x, x), math.sqrt(2.0)
    network = jail.isolate_network()
    jail.limit_resources(int(spec["memory_mb"]))
    dropped = jail.drop_privileges()
    jail.arm()
    return {"kind": "ready", "pid": os.getpid(), "network_isolated": network, "unprivileged": dropped}


def _take_protocol_fds(keep_stderr: bool) -> tuple[int, int]:
    in_fd, out_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1) if keep_stderr else (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    return in_fd, out_fd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", required=True, help="JSON: memory_mb, max_output_mb, cache_entries, modules, harness_modules")
    spec = json.loads(parser.parse_args(argv).spec)
    in_fd, out_fd = _take_protocol_fds(bool(os.environ.get("AMDLIB_SANDBOX_STDERR")))
    try:
        ready = _prepare(spec)
    except BaseException as err:
        codec.write_message(out_fd, {"kind": "error", "reason": _reason(err)})
        return 1
    codec.write_message(out_fd, ready)
    worker = Worker(spec)
    while True:
        try:
            job, arrays = codec.read_message(in_fd, max_body=1 << 40, readonly=True)
        except codec.ProtocolError:
            return 0  # the parent closed the pipe
        start = time.perf_counter()
        reply = worker.run(job, arrays)
        outputs = reply.pop("outputs", None)
        reply["worker_seconds"] = time.perf_counter() - start
        reply["id"] = job.get("id")
        del job, arrays
        codec.write_message(out_fd, reply, outputs)


if __name__ == "__main__":
    sys.exit(main())
