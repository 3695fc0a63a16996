"""Notebook kernels for runs: private IPC socket folders, papermill execution, cleanup.

Kernels of parallel runs talk over IPC sockets (TCP ports picked independently can
collide). The sockets live in a folder private to the user, so two users on one machine
never share (or block) each other's folder.
"""

from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator

from amdlib.pipeline import runs

#: Environment variable: seconds one notebook cell may run before the run fails (unset: no limit).
CELL_TIMEOUT_ENV = "AMDLIB_CELL_TIMEOUT"


def cell_timeout() -> int | None:
    """The per-cell time limit from ``AMDLIB_CELL_TIMEOUT``, or None; a bad value is a one-line error."""
    text = os.environ.get(CELL_TIMEOUT_ENV, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        from amdlib.errors import UserError

        raise UserError(f"{CELL_TIMEOUT_ENV}={text!r}: expected a whole number of seconds >= 1 (or unset it)")
    return int(text)


#: Kernel managers of this process whose kernels may still run (killed on an interrupt).
_LIVE_KERNELS: list[Any] = []


def kill_live_kernels() -> None:
    """Kill the kernels this process started: after Ctrl-C nbclient may not get to it."""
    while _LIVE_KERNELS:
        km = _LIVE_KERNELS.pop()
        pid = getattr(getattr(km, "provisioner", None), "pid", None)
        if isinstance(pid, int) and pid > 0:
            try:
                os.killpg(pid, 9) if os.getpgid(pid) == pid else os.kill(pid, 9)
            except OSError:
                pass


def interrupt(signum: int = 2, frame: Any = None) -> None:
    """A SIGINT handler: kill this process's kernels at once, then raise KeyboardInterrupt.

    Killing first spares nbclient a graceful shutdown of a kernel busy in a cell. Logging is
    switched off first: the kernel's death is ours, and nbclient's "Kernel died" is not news.
    """
    import logging

    logging.disable(logging.CRITICAL)
    kill_live_kernels()
    raise KeyboardInterrupt


def ipc_dir() -> Path:
    """This user's private folder for kernel IPC sockets (mode 0700, owned by us).

    Short on purpose (AF_UNIX paths are limited to ~100 bytes): ``$XDG_RUNTIME_DIR/amdk``
    when that is set, else ``<tmp>/amdk-<uid>``. A folder of that name that another user
    owns (or that is open to others) is never used: a fresh private one is made instead.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    base = Path(runtime) / "amdk" if runtime and Path(runtime).is_dir() else Path(tempfile.gettempdir()) / f"amdk-{os.getuid()}"
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = base.lstat()
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077:
            return base
    except OSError:
        pass
    return _fallback_ipc_dir()


_FALLBACK: list[Path] = []


def _fallback_ipc_dir() -> Path:
    """One fresh private folder per process (made once, removed when the process exits)."""
    if not _FALLBACK:
        import atexit
        import shutil

        folder = Path(tempfile.mkdtemp(prefix=f"amdk-{os.getuid()}-"))
        atexit.register(shutil.rmtree, folder, True)
        _FALLBACK.append(folder)
    return _FALLBACK[0]


def ipc_kernel_manager(tag: str, log: IO[bytes], folder: Path) -> type:
    """A kernel manager class whose kernels talk over IPC sockets ``<folder>/<tag>-*``.

    Kernels started in parallel with TCP pick free ports independently and can
    collide; IPC socket paths are unique per run instead. The kernel process's
    own stdout/stderr (its log, not cell output) go to ``log``.
    """
    from jupyter_client.manager import AsyncKernelManager, KernelManager

    prefix = str(folder / tag)

    class IpcKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", prefix)
            super().__init__(**kwargs)

        async def start_kernel(self, **kwargs: Any) -> None:
            kwargs.setdefault("stdout", log)
            kwargs.setdefault("stderr", log)
            await KernelManager._async_start_kernel(self, **kwargs)
            _LIVE_KERNELS.append(self)

    return IpcKernelManager


@contextmanager
def _kernel_env() -> Iterator[None]:
    """Kernels inherit our environment: drop a non-inline MPLBACKEND so figures reach the notebook."""
    saved = os.environ.pop("MPLBACKEND", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["MPLBACKEND"] = saved


def execute_notebook(source: Path, target: Path, params: dict[str, Any], tag: str, log_path: Path) -> None:
    """Run ``source`` with ``params`` injected, saving the executed copy to ``target``.

    The kernel's own log goes to ``log_path`` (cell outputs are in the notebook).
    """
    import papermill

    from amdlib.pipeline import progress

    folder = ipc_dir()
    _clean_ipc(folder, tag.split("-")[0])
    with _kernel_env(), open(log_path, "ab") as log:
        try:
            papermill.execute_notebook(
                str(source),
                str(target),
                parameters=params,
                kernel_name="python3",
                cwd=str(runs.REPO_ROOT),
                progress_bar=False,
                start_timeout=180,
                execution_timeout=cell_timeout(),
                kernel_manager_class=ipc_kernel_manager(tag, log, folder),
                **progress.papermill_kwargs(),  # `amd run`: cells and their output as they run
            )
        except KeyboardInterrupt:
            kill_live_kernels()
            raise
        finally:
            for leftover in folder.glob(f"{tag}-*"):
                leftover.unlink(missing_ok=True)
            _LIVE_KERNELS.clear()  # nbclient shut them down (after an interrupt, killed first)


def _clean_ipc(folder: Path, prefix: str) -> None:
    """Remove IPC sockets left by killed runs (``<prefix>-<pid>-<n>`` of processes that are gone)."""
    for sock in folder.glob(f"{prefix}-*-*"):
        pid = sock.name.split("-")[1]
        if pid.isdigit() and not runs.pid_alive(int(pid)):
            sock.unlink(missing_ok=True)
