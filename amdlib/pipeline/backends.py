"""Where a sweep's runs execute: a local process pool or an existing Dask cluster.

Each backend is ``(submit, completed, close)``; ``close(interrupted)`` ends it. After
Ctrl-C the local pool starts nothing new: pending runs are cancelled, each busy worker
cleans up its own run (kernel killed, working dir removed, failed record written) and any
worker still alive after a short grace period is killed.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterable

from amdlib.errors import UserError

Backend = tuple[Callable[..., Future], Callable[[list[Future]], Iterable[Future]], Callable[[bool], None]]

#: Imported once by the fork server, so pool workers start without re-importing them.
_PRELOAD = ["amdlib.pipeline.runner", "amdlib.pipeline.render", "papermill", "nbconvert", "jupyter_client"]
#: Seconds the workers get to clean up after Ctrl-C before they are killed.
INTERRUPT_GRACE_S = 1.5
_SCHEDULER = re.compile(r"^(?:(?:tcp|tls|ucx|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):[0-9]{1,5}/?$")

_busy = False
_interrupted = False


def _on_sigint(signum: int, frame: Any) -> None:
    """In a pool worker: interrupt the run in progress once; an idle worker ignores Ctrl-C."""
    global _interrupted
    if _busy and not _interrupted:
        _interrupted = True
        from amdlib.pipeline.kernels import interrupt

        interrupt(signum, frame)


def _worker_init() -> None:
    signal.signal(signal.SIGINT, _on_sigint)


def _task(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` in a pool worker, marked busy so that Ctrl-C reaches it once."""
    global _busy
    if _interrupted:
        raise KeyboardInterrupt  # never start a run after an interrupt
    _busy = True
    try:
        return fn(*args)
    except KeyboardInterrupt:
        os._exit(130)  # the run cleaned up after itself; this worker takes no further run
    finally:
        _busy = False


def local_pool(jobs: int) -> Backend:
    """A process pool forked from a clean fork server (no threads, loops or ZMQ sockets in it)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init)

    def submit(fn: Callable[..., Any], *args: Any) -> Future:
        return pool.submit(_task, fn, *args)

    def close(interrupted: bool) -> None:
        if not interrupted:
            pool.shutdown(wait=True, cancel_futures=True)
            return
        procs = list((getattr(pool, "_processes", None) or {}).values())
        for proc in procs:  # Ctrl-C in a terminal reaches them already; `kill -INT` does not
            _signal(proc.pid, signal.SIGINT)
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + INTERRUPT_GRACE_S
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
        for proc in procs:
            if proc.is_alive():
                _signal(proc.pid, signal.SIGKILL)
                proc.join(0.5)
        pool.shutdown(wait=True)  # quick now that the workers are gone; frees the pool's semaphores

    return submit, as_completed, close


def _signal(pid: int | None, sig: int) -> None:
    if pid:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def check_scheduler(address: str) -> str:
    """``address`` if it looks like a Dask scheduler address, else a one-line error."""
    if not _SCHEDULER.match(address.strip()):
        raise UserError(f"--scheduler {address!r}: expected a Dask scheduler address such as tcp://HOST:8786")
    return address.strip()


def dask(address: str) -> Backend:
    """An existing Dask cluster; each run is one task (``pure=False``: never cached)."""
    address = check_scheduler(address)
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError as err:  # dask[distributed] is a dependency; say so plainly if missing
        raise UserError(f"--scheduler needs dask.distributed: {err}") from None
    try:
        client = Client(address, timeout="10s")
    except Exception as err:  # distributed raises OSError, TimeoutError, ValueError, ...
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        raise UserError(f"cannot reach the Dask scheduler at {address}: {reason} (is `dask scheduler` running?)") from None

    def submit(fn: Callable[..., Any], *args: Any) -> Future:
        return client.submit(fn, *args, pure=False)

    def close(interrupted: bool) -> None:
        if interrupted:
            client.cancel(list(client.futures.values()) if hasattr(client, "futures") else [], force=True)
        client.close()

    return submit, dask_completed, close
