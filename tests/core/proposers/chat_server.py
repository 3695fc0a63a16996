"""A real HTTP server on 127.0.0.1 that speaks the chat-completions API with scripted answers.

Tests drive ``proposer: openai`` against it: it logs every request, answers
with a function of the request (or a queued script of statuses and bodies),
can hang (never answer), return reasoning fields, and counts tokens as
``ceil(characters / 4)`` like a real tokenizer roughly does.
"""

from __future__ import annotations

import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from amdlib.llm.server import Stoppable, free_port, openai_url

HANG = "hang"

Answer = str | dict[str, Any] | tuple[int, dict[str, Any]]


def tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def completion(content: str | None, prompt_tokens: int, reasoning: str | None = None,
               model: str = "scripted") -> dict[str, Any]:
    """A chat.completion body; ``reasoning`` goes into ``reasoning_content`` (as DeepSeek sends it)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    completion_tokens = tokens((content or "") + (reasoning or ""))
    return {"id": "cmpl-x", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


def error(status: int, message: str = "boom", code: str = "err") -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": code, "code": code}}


class JsonHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 handler that answers JSON and keeps pytest's output clean (shared by the test servers)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ThreadedServer(Stoppable):
    """An HTTP server on a free 127.0.0.1 port, answering from threads until :meth:`stop`
    (stop and the ``with`` block are the library server's, amdlib.llm.server.Stoppable)."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = openai_url("127.0.0.1", self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class ChatServer(ThreadedServer):
    """``answer(body) -> str | (status, body) | HANG`` answers each POST unless ``script`` has a queued answer."""

    def __init__(self, answer: Callable[[dict[str, Any]], Any] | None = None, models: tuple[str, ...] = ("scripted",)) -> None:
        self.answer = answer or (lambda body: "def f(x):\n    return x\n")
        self.script: list[Any] = []
        self.requests: list[dict[str, Any]] = []
        self.answered = 0
        self.auth: list[str] = []
        self.models = models
        self.lock = threading.Lock()
        self.released = threading.Event()
        server = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "t"}
                                                            for m in server.models]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(body)
                    server.auth.append(self.headers.get("Authorization", ""))
                    queued = server.script.pop(0) if server.script else None
                result = queued if queued is not None else server.answer(body)
                if result == HANG:
                    server.released.wait(120)  # never answers (until the test closes the server)
                    return
                if isinstance(result, tuple):
                    status, payload = result
                else:
                    prompt = sum(tokens(m.get("content") or "") for m in body.get("messages", []))
                    if isinstance(result, dict):  # {"content": ..., "reasoning": ...}
                        payload = completion(result.get("content"), prompt, result.get("reasoning"), body.get("model", ""))
                    else:
                        payload = completion(result, prompt, model=body.get("model", ""))
                    status = 200
                self._send(status, payload)
                if status == 200:
                    with server.lock:
                        server.answered += 1

        super().__init__(Handler)

    def code_requests(self) -> list[dict[str, Any]]:
        """POSTs asking for a mechanism (not eoh-e's prompt-strategy requests)."""
        return [r for r in self.requests if "design instructions" not in r["messages"][0]["content"]]

    def wait_answered(self, n: int, timeout_s: float = 60.0) -> None:
        end = time.monotonic() + timeout_s
        while self.answered < n and time.monotonic() < end:
            time.sleep(0.02)

    def stop(self) -> None:
        self.released.set()  # hanging answers end, so the server's threads can finish
        super().stop()


def closed_port() -> int:
    """A local port nothing listens on (free right now)."""
    return free_port("127.0.0.1")
