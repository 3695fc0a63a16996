"""The embedded server: the bundled model is found, the server answers chat requests,
its process group is gone after the ``with`` block, and bad ports are one-line errors."""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request

import pytest

from amdlib.errors import UserError
from amdlib.llm import server as llm_server

pytestmark = pytest.mark.llm


def test_find_model_locates_the_bundled_gguf() -> None:
    path = llm_server.find_model()
    assert path.name == llm_server.MODEL_FILE and path.stat().st_size > 50_000_000
    with open(path, "rb") as fh:
        assert fh.read(4) == b"GGUF"


def test_server_answers_and_is_killed_on_exit() -> None:
    with llm_server.start_server() as srv:
        assert srv.base_url.startswith("http://127.0.0.1:") and srv.base_url.endswith("/v1")
        with urllib.request.urlopen(srv.base_url + "/models", timeout=5) as response:
            ids = [m["id"] for m in json.load(response)["data"]]
        assert ids == [llm_server.MODEL_ALIAS]
        body = json.dumps({"model": srv.model, "max_tokens": 8, "seed": 1, "temperature": 0,
                           "messages": [{"role": "user", "content": "Say hi."}]}).encode()
        req = urllib.request.Request(srv.base_url + "/chat/completions", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as response:
            answer = json.load(response)
        assert answer["usage"]["completion_tokens"] >= 1
        assert isinstance(answer["choices"][0]["message"]["content"], str)
        pid = srv.process.pid
    assert srv.process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


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
