"""The sandbox worker: ``python -m amdlib.core.sandbox.worker --spec JSON --fd N``.

``N`` is a Unix socket to the parent (see ``zygote`` for the protocol and
``codec`` for frames); fds 0-2 point to /dev/null, so whatever a candidate
prints is lost.

At start the worker imports numpy, math, the job's allowed modules and the
harness modules named in the spec, warms numpy up, and becomes a zygote
(``zygote.prepare_layers``: namespaces, privilege drop, Landlock ruleset,
seccomp probe), then says ``ready`` with the layer status and serves jobs
(``forkserver``). It imports nothing afterwards: a job that needs another
module gets a new worker.

Per job, in a fresh candidate process forked from the zygote (the parent
has checked the AST policy): compile the candidate into a fresh namespace with restricted builtins
and a guarded ``__import__``, and call ``harness(fn, payload)``. Only the
harness's dict of float64/int64/bool arrays goes back, or a one-line reason.
"""

from __future__ import annotations

import argparse
import builtins
import collections
import importlib
import json
import math
import os
import socket
import sys
import time
import warnings
from typing import Any, Callable

import numpy as np

import amdlib.core.sandbox.codec as codec
import amdlib.core.sandbox.forkserver as forkserver
import amdlib.core.sandbox.jail as jail
import amdlib.core.sandbox.zygote as zygote
from amdlib.core.sandbox.policy import BASE_MODULES, DENIED_ATTRIBUTES

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


#: Built once in the zygote: building it in each candidate process would copy ~80 pages.
_SAFE: dict[str, Any] = {name: getattr(builtins, name) for name in SAFE_BUILTINS}
_SAFE["print"] = _quiet_print


def restricted_globals(allowed: tuple[str, ...]) -> dict[str, Any]:
    """The namespace for the candidate of this (candidate) process: safe builtins only.

    The builtins dict is the zygote's, not a copy: this process runs exactly
    one candidate and is gone afterwards, so nothing it does to the dict can
    reach another candidate. Call it once per process.
    """
    _SAFE["__import__"] = _guarded_import(allowed)
    return {"__builtins__": _SAFE, "__name__": "candidate"}


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

    def keys(self) -> frozenset[str]:
        return frozenset(self._items)

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        arrays = self._items.get(key)
        if arrays is not None:
            self._items.move_to_end(key)
        return arrays

    def _bytes(self) -> int:
        return sum(a.nbytes for arrays in self._items.values() for a in arrays.values())


class Worker:
    """Runs one job in a candidate process (after ``zygote.harden``)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.max_output = int(spec["max_output_mb"]) << 20
        self.cache = PayloadCache(int(spec["cache_entries"]), int(spec["memory_mb"]) << 18)

    def lookup(self, job: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        """(In the zygote.) The job's payload: the one sent with it, or the cached one by key."""
        key = str(job["key"])
        if job.get("has_payload"):
            self.cache.put(key, arrays)
        return self.cache.get(key)

    def answer(self, job: dict[str, Any], payload: dict[str, np.ndarray]) -> None:
        """(In the candidate process.) Run the job and write the one reply frame."""
        start = time.perf_counter()
        reply = self.run(job, payload)
        outputs = reply.pop("outputs", None)
        reply["worker_seconds"] = time.perf_counter() - start
        reply["id"] = job.get("id")
        codec.write_message(zygote.RESULT_FD, reply, outputs)
        os.close(zygote.RESULT_FD)  # the parent sees the end now, not after this process's teardown

    def run(self, job: dict[str, Any], payload: dict[str, np.ndarray]) -> dict[str, Any]:
        """The reply header for one job (outputs under ``"outputs"``)."""
        code, entry = str(job["code"]), str(job["entry"])
        allowed = tuple(str(m) for m in job["modules"])
        python_layer = bool(job.get("python_layer", True))
        # The AST policy ran in the parent, on this very string, before the job was sent.
        module_name, _, func_name = str(job["harness"]).partition(":")
        harness = getattr(sys.modules.get(module_name), func_name, None)
        if not callable(harness):
            return {"kind": "result", "ok": False, "reason": f"harness {job['harness']} not loaded"}
        try:
            outputs = self._call(code, entry, allowed, harness, payload, python_layer)
        except MemoryError:
            return {"kind": "result", "ok": False, "reason": "memory limit exceeded"}
        except RecursionError:
            return {"kind": "result", "ok": False, "reason": "recursion limit exceeded"}
        except BaseException as err:  # SystemExit, KeyboardInterrupt ... are the candidate's too
            return {"kind": "result", "ok": False, "reason": _reason(err)}
        return {"kind": "result", "ok": True, "outputs": outputs}

    def _call(self, code: str, entry: str, allowed: tuple[str, ...], harness: Callable[..., Any],
              payload: dict[str, np.ndarray], python_layer: bool) -> dict[str, np.ndarray]:
        compiled = compile(code, "<candidate>", "exec", dont_inherit=True)
        # Without the Python layer (tests of the kernel layers alone): real builtins, no hook.
        namespace = restricted_globals(allowed) if python_layer else {"__name__": "candidate"}
        jail.allow_exec(compiled)
        try:
            exec(compiled, namespace)
        finally:
            jail.allow_exec(None)
        fn = namespace.get(entry)
        if not callable(fn):
            raise TypeError(f"'{entry}' is not a function")
        return collect_outputs(harness(fn, dict(payload)), self.max_output)


def _prepare(spec: dict[str, Any]) -> None:
    """Import everything the candidates may use and warm numpy up (nothing is imported later)."""
    warnings.simplefilter("ignore")
    for name in (*NUMPY_EXTRAS, *BASE_MODULES, *spec["modules"], *spec["harness_modules"]):
        importlib.import_module(name)
    # First calls of some numpy functions import or compile lazily: do it now.
    x = np.linspace(0.0, 1.0, 11)
    np.percentile(x, 50), np.median(x), np.quantile(x, 0.5), np.histogram(x), str(x)
    np.random.default_rng(0).random(2), np.unique(x), np.interp(0.5, x, x), math.sqrt(2.0)


def _seed() -> None:
    """Seed the global random states once, after the zygote's last ``os.fork`` (which reseeds
    ``random``): every candidate process is a copy of this state, so all start alike."""
    np.random.seed(0)
    if "random" in sys.modules:
        sys.modules["random"].seed(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", required=True, help="JSON: memory_mb, max_output_mb, cache_entries, modules, harness_modules")
    parser.add_argument("--fd", type=int, required=True, help="the control socket's descriptor")
    args = parser.parse_args(argv)
    spec = json.loads(args.spec)
    os.dup2(args.fd, zygote.CONTROL_FD)
    os.close(args.fd)
    _quiet_std_fds(bool(os.environ.get("AMDLIB_SANDBOX_STDERR")))
    control = socket.socket(fileno=zygote.CONTROL_FD)
    try:
        _prepare(spec)
        layers = zygote.prepare_layers(tuple(spec.get("kernel_layers", ("seccomp", "landlock", "mount_namespace"))))
        _seed()
    except BaseException as err:
        codec.write_message(zygote.CONTROL_FD, {"kind": "error", "reason": _reason(err)})
        return 1
    codec.write_message(zygote.CONTROL_FD, {"kind": "ready", "layers": layers.status})
    worker = Worker(spec)
    server = forkserver.ForkServer(control, layers, int(spec["memory_mb"]), worker.answer, worker.lookup,
                                   worker.cache.keys)
    return server.serve()


def _quiet_std_fds(keep_stderr: bool) -> None:
    # Whatever a candidate prints goes nowhere.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1) if keep_stderr else (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
