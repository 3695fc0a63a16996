"""Readiness means one real completion: a backend that dies on it is a one-line error naming
the CPU, and the portable build's CPU requirements are read from /proc/cpuinfo."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from amdlib.errors import UserError
from amdlib.llm import cpu
from amdlib.llm.server import LocalServer, free_port

# A real HTTP server that behaves like a backend built for another CPU: it lists its model,
# then dies of SIGSEGV on the first completion.
CRASHING = textwrap.dedent('''
    import http.server, json, os, signal, sys
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            body = json.dumps({"data": [{"id": "m"}]}).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
            self.wfile.write(body)
        def do_POST(self):
            os.kill(os.getpid(), signal.SIGSEGV)
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
''')


def test_a_backend_that_crashes_on_its_first_completion_is_a_clear_error():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", CRASHING, str(port)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = LocalServer(proc, "127.0.0.1", port, None)
    with pytest.raises(UserError) as err:
        server.wait_ready(30)
    message = str(err.value)
    assert "crashed on its first completion (signal 11)" in message and "this CPU reports" in message
    assert "\n" not in message and proc.poll() is not None


def test_cpu_flags_and_the_portable_baseline():
    info = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma f16c avx512f amx_tile\n"
    flags = cpu.cpu_flags(info)
    assert {"avx2", "avx512f", "amx_tile"} <= flags
    assert cpu.describe(flags) == "AVX AVX2 FMA F16C AVX512F AMX_TILE"
    old = cpu.cpu_flags("flags\t: fpu sse2 sse4_2 avx\n")
    if cpu.platform.machine() in ("x86_64", "AMD64"):
        assert cpu.missing_baseline(old) == ["avx2", "fma", "f16c"] and cpu.missing_baseline(flags) == []
