"""The embedded server: the bundled model is found, ``amd llm-server`` answers chat
requests and stops cleanly, and a busy port or a missing model is a one-line error."""

from __future__ import annotations

import importlib.util
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from amdlib.errors import UserError
from amdlib.llm import server as llm_server

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"),
]


def test_find_model_locates_the_bundled_gguf() -> None:
    path = llm_server.find_model()
    assert path.name == llm_server.MODEL_FILE and path.stat().st_size > 50_000_000
    with open(path, "rb") as fh:
        assert fh.read(4) == b"GGUF"


def test_cli_serves_chat_and_stops_on_signal() -> None:
    """``amd llm-server`` (main) in the foreground: prints the URL, answers, exits 0 on SIGINT."""
    code = "import sys; from amdlib.llm.server import main; sys.exit(main(['--port', '0']))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines = []
        while not any("export OPENAI_BASE_URL=" in line for line in lines):
            line = proc.stdout.readline()
            assert line, f"amd llm-server exited early: {lines}"
            lines.append(line)
        url = lines[-1].split("export OPENAI_BASE_URL=", 1)[1].strip()
        banner = [line for line in lines if "is serving an OpenAI-compatible API at" in line]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1") and url in banner[0]
        with urllib.request.urlopen(url + "/models", timeout=5) as response:
            assert [m["id"] for m in json.load(response)["data"]] == [llm_server.MODEL_ALIAS]
        body = json.dumps({"model": llm_server.MODEL_ALIAS, "max_tokens": 8, "seed": 1, "temperature": 0,
                           "messages": [{"role": "user", "content": "Say hi."}]}).encode()
        req = urllib.request.Request(url + "/chat/completions", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as response:
            answer = json.load(response)
        assert answer["usage"]["completion_tokens"] >= 1
        assert isinstance(answer["choices"][0]["message"]["content"], str)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url + "/models", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_busy_port_is_a_user_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(UserError, match=f"127.0.0.1:{port}.*--port"):
            llm_server.start_server(port=port)
        assert time.monotonic() - start < 5


def test_missing_model_package_is_a_user_error(monkeypatch) -> None:
    monkeypatch.setattr(llm_server.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(llm_server, "MODEL_PACKAGE", "no-such-package-xyz")
    with pytest.raises(UserError, match="pip install"):
        llm_server.find_model()
