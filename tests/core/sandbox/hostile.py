"""Adversarial corpus: hostile candidates and the reason each must be contained with.

Every program defines ``f(x)`` and is run three times (``test_hostile.py``):
with the AST policy (production), without it (``ast_policy=False``: the
Python and kernel layers), and with neither the policy nor the Python layer
(``python_layer=False``: restricted builtins and audit hook off, so the
kernel layers - seccomp, Landlock, namespaces, rlimits, a fresh process per
candidate - contain it alone). ``policy``/``runtime``/``kernel`` are regexes
the reason must match in each mode (``OK``: the run must succeed harmlessly;
``CONTAINED``: either outcome, only the absence of side effects counts;
``None``: the mode is skipped). In every mode nothing may be written,
connected, killed or leaked, and three normal candidates afterwards must
score exactly as on a fresh sandbox.

Placeholders: ``{WATCH}`` a world-writable directory, ``{SHM}`` a path in
/dev/shm and ``{HOME}`` one in the home directory that must not appear,
``{PORT}``/``{UDP}`` TCP and UDP listeners on 127.0.0.1, ``{PID}`` a bystander
process whose environment holds a secret (it must survive), ``{PARENT}`` the
test process itself. The classes that target the kernel layers (attribute
chains to the real builtins, hook disarm, forged frames, cross-candidate
poisoning, /proc/<pid>/environ, pidfd kill) are in ``hostile_kernel``.
"""

from __future__ import annotations

from dataclasses import dataclass

OK = "OK"
CONTAINED = "CONTAINED"
POLICY = r"^policy: "
TIMEOUT = r"^timeout: "
DENIED = r"PermissionError: sandbox: '"
EPERM = r"Operation not permitted"
VECTORISED = "amdlib.core.sandbox.harnesses:vectorised"
PASSTHROUGH = "tests.core.sandbox.harnesses:passthrough"

# Classic escape to the os module's globals through object.__subclasses__().
ESCAPE = """
def osg():
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == '_wrap_close':
            return c.__init__.__globals__
"""


@dataclass(frozen=True)
class Hostile:
    name: str
    code: str
    policy: str | None
    runtime: str | None
    harness: str = VECTORISED
    modules: tuple[str, ...] = ()
    timeout: float = 10.0
    kernel: str | None = CONTAINED


def _f(body: str, prelude: str = "import numpy as np\n") -> str:
    lines = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return f"{prelude}\ndef f(x):\n{lines}\n"


CORPUS: list[Hostile] = [
    # --- hangs: the wall-clock timeout kills the process group ---
    Hostile("infinite_loop", _f("while True:\n    pass"), TIMEOUT, TIMEOUT, timeout=1.0, kernel=TIMEOUT),
    Hostile("busy_numpy", _f("while True:\n    np.dot(x, x)"), TIMEOUT, TIMEOUT, timeout=1.0, kernel=TIMEOUT),
    Hostile("sleep", _f("time.sleep(100)", "import time\n"), TIMEOUT, TIMEOUT, modules=("time",), timeout=1.0,
            kernel=TIMEOUT),
    Hostile("infinite_iterator", _f("return sum(1 for _ in iter(int, 1))"), TIMEOUT, TIMEOUT, timeout=1.0,
            kernel=TIMEOUT),
    # --- memory ---
    Hostile("list_bomb", _f("return [0] * 10**10"), "memory limit", "memory limit"),
    Hostile("numpy_bomb", _f("return np.ones((10**6, 10**6))"), "memory limit", "memory limit"),
    Hostile("growing_bomb", _f("a = []\nwhile True:\n    a.append(np.empty(10**7))"), "memory limit", "memory limit"),
    Hostile("string_doubling", _f("s = 'x'\nwhile True:\n    s = s + s"), "memory limit", "memory limit"),
    Hostile("deep_recursion", _f("return f(x + 1)"), "recursion", "recursion"),
    # --- processes, network, native code ---
    Hostile("fork", _f("import os\nos.fork()\nreturn x"), POLICY, "ImportError: import of 'os'"),
    Hostile("fork_escape", ESCAPE + _f("osg()['fork']()\nreturn x", ""), POLICY, DENIED + "os.fork"),
    Hostile("os_system", ESCAPE + _f("osg()['system']('touch {WATCH}/system')\nreturn x", ""), POLICY, DENIED + "os.system"),
    Hostile("subprocess", _f("import subprocess\nsubprocess.run(['touch', '{WATCH}/sp'])\nreturn x"), POLICY,
            "ImportError: import of 'subprocess'"),
    Hostile("subprocess_escape", ESCAPE + _f(
        "m = osg()['sys'].modules['importlib'].import_module('subprocess')\nm.run(['touch', '{WATCH}/sp'])\nreturn x", ""),
        POLICY, DENIED + "|ModuleNotFoundError"),
    Hostile("socket", _f("import socket\nsocket.create_connection(('127.0.0.1', {PORT}))\nreturn x"), POLICY,
            "ImportError: import of 'socket'"),
    Hostile("socket_escape", ESCAPE + _f(
        "s = osg()['sys'].modules['importlib'].import_module('socket')\ns.create_connection(('127.0.0.1', {PORT}))\nreturn x",
        ""), POLICY, DENIED + "|ModuleNotFoundError"),
    Hostile("ctypes", _f("import ctypes\nctypes.CDLL(None).system(b'touch {WATCH}/ct')\nreturn x"), POLICY,
            "ImportError: import of 'ctypes'"),
    Hostile("ctypes_escape", ESCAPE + _f(
        "c = osg()['sys'].modules['ctypes']\nc.CDLL(None).system(b'touch {WATCH}/ct')\nreturn x", ""), POLICY,
        DENIED + "ctypes.dlopen"),
    Hostile("np_ctypeslib", _f("np.ctypeslib.ctypes.CDLL(None).system(b'touch {WATCH}/ct')\nreturn x"), POLICY,
            DENIED + "(import|ctypes)|AttributeError"),
    Hostile("kill_parent", ESCAPE + _f("g = osg()\ng['kill'](g['getppid'](), 9)\nreturn x", ""), POLICY, DENIED + "os.kill"),
    # --- files ---
    Hostile("open_write", _f("open('{WATCH}/open', 'w').write('x')\nreturn x"), POLICY, "NameError: name 'open'"),
    Hostile("open_write_escape", ESCAPE + _f("osg()['sys'].modules['builtins'].open('{WATCH}/open', 'w')\nreturn x", ""),
            POLICY, DENIED + "open"),
    Hostile("os_open_escape", ESCAPE + _f("g = osg()\ng['open']('{WATCH}/osopen', g['O_CREAT'] | g['O_WRONLY'])\nreturn x", ""),
            POLICY, DENIED + "open"),
    Hostile("np_save", _f("np.save('{WATCH}/save.npy', x)\nreturn x"), POLICY, DENIED + "open"),
    Hostile("np_save_relative", _f("np.save('pwned.npy', x)\nreturn x"), POLICY, DENIED + "open"),
    Hostile("np_savetxt", _f("np.savetxt('{WATCH}/save.txt', x)\nreturn x"), POLICY, DENIED + "open"),
    # numpy turns the refused open into a SystemError: still no file.
    Hostile("tofile", _f("x.copy().tofile('{WATCH}/tofile.bin')\nreturn x"), POLICY, DENIED + "open|SystemError"),
    Hostile("read_passwd", _f("return x * len(np.loadtxt('/etc/passwd', dtype=str, delimiter=':'))"), POLICY,
            DENIED + "|" + EPERM),
    Hostile("fromfile_passwd", _f("return x * np.fromfile('/etc/passwd', dtype=np.uint8).size"), POLICY,
            DENIED + "open|SystemError"),
    Hostile("listdir_escape", ESCAPE + _f("return x * len(osg()['listdir']('/'))", ""), POLICY, DENIED + "os.listdir"),
    Hostile("remove_escape", ESCAPE + _f("osg()['remove']('{WATCH}/keep')\nreturn x", ""), POLICY, DENIED + "os.remove"),
    # --- escaping the restricted namespace ---
    Hostile("dunder_import", _f("__import__('os').system('touch {WATCH}/imp')\nreturn x"), POLICY,
            "ImportError: import of 'os'"),
    Hostile("catch_warnings", _f(
        "c = [k for k in ().__class__.__bases__[0].__subclasses__() if k.__name__ == 'catch_warnings'][0]\n"
        "c()._module.__builtins__['__import__']('os').system('touch {WATCH}/cw')\nreturn x"), POLICY, DENIED + "os.system"),
    Hostile("getattr_trick", _f("return getattr(np, '__dict__')['ctypeslib']"), POLICY, "NameError: name 'getattr'"),
    Hostile("vars_globals", _f("return vars(np)['ctypeslib'] or globals()"), POLICY, "NameError: name 'vars'"),
    Hostile("eval_string", _f("return eval(\"__import__('os').system('touch {WATCH}/ev')\")"), POLICY, "NameError: name 'eval'"),
    Hostile("exec_compile", _f("exec(compile('import os', 's', 'exec'))\nreturn x"), POLICY, "NameError: name 'exec'"),
    Hostile("importlib", _f("import importlib\nimportlib.import_module('os')\nreturn x"), POLICY,
            "ImportError: import of 'importlib'"),
    Hostile("sys_modules", _f("import sys\nsys.modules['os'].system('touch {WATCH}/sm')\nreturn x"), POLICY,
            "ImportError: import of 'sys'"),
    Hostile("numpy_builtins", _f("np.__dict__['__builtins__']['open']('{WATCH}/nb', 'w')\nreturn x"), POLICY, DENIED + "open"),
    Hostile("np_lib_datasource", _f("return x * len(np.lib.npyio.DataSource().open('/etc/passwd').read())"), POLICY,
            DENIED + "|AttributeError|" + EPERM),
    Hostile("as_strided", _f("return np.lib.stride_tricks.as_strided(x, shape=(8,), strides=(0,))"), POLICY, OK),
    Hostile("generator_frame", _f("g = (i for i in [1])\nreturn g.gi_frame.f_back.f_globals"), POLICY,
            DENIED + "object.__getattr__"),
    Hostile("traceback_frame", _f("try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    return e.__traceback__.tb_frame"),
            POLICY, DENIED + "object.__getattr__"),
    Hostile("new_code", _f("return type(f.__code__)(*([0] * 16))"), POLICY, "NameError: name 'type'"),
    Hostile("rlimit_escape", ESCAPE + _f("r = osg()['sys'].modules['resource']\nr.setrlimit(r.RLIMIT_AS, (-1, -1))\nreturn x", ""),
            POLICY, DENIED + "resource.setrlimit"),
    # --- noisy or failing candidates ---
    Hostile("print_100mb", _f("print('x' * 10**8)\nreturn x"), OK, OK),
    Hostile("stdout_write_escape", ESCAPE + _f("osg()['write'](1, b'x' * 10**7)\nreturn x", ""), POLICY, EPERM),
    Hostile("raise", _f("raise RuntimeError('boom')"), "RuntimeError: boom", "RuntimeError: boom"),
    Hostile("huge_message", _f("raise ValueError('m' * 10**7)"), r"ValueError: m+\.\.\.$", r"ValueError: m+\.\.\.$"),
    Hostile("system_exit", _f("raise SystemExit(3)"), "NameError: name 'SystemExit'", "NameError: name 'SystemExit'"),
    Hostile("sys_exit_escape", ESCAPE + _f("osg()['sys'].exit(3)", ""), POLICY, "SystemExit: 3"),
    Hostile("keyboard_interrupt", ESCAPE + _f("raise osg()['__builtins__']['KeyboardInterrupt']('stop')", ""), POLICY,
            "KeyboardInterrupt: stop"),
    Hostile("os_exit", ESCAPE + _f("osg()['_exit'](0)", ""), POLICY, "worker exited with code 0"),
    Hostile("close_protocol_fds", ESCAPE + _f("g = osg()\nfor fd in range(3, 64):\n    try:\n        g['close'](fd)\n"
                                              "    except Exception:\n        pass\nreturn x", ""),
            POLICY, "protocol violation|worker"),
    Hostile("forge_reply", ESCAPE + _f("g = osg()\nfor fd in range(3, 64):\n    try:\n        g['write'](fd, b'AMDS' + b'\\xff' * 60)\n"
                                       "    except Exception:\n        pass\nwhile True:\n    pass", ""),
            POLICY, "protocol violation|timeout"),
    Hostile("np_fd_attack", _f("np.savetxt(4, x)\nreturn x"), POLICY, r"\w+Error"),
    Hostile("monkeypatch_numpy", _f("np.sqrt = lambda v: v * 0\nreturn x"), POLICY, None),
    Hostile("mutate_payload", _f("x[0] = 1e9\nreturn x"), "read-only", "read-only"),
    # --- bad return values ---
    Hostile("return_nan", _f("return x * np.nan"), "non-finite", "non-finite"),
    Hostile("return_inf", _f("return x / 0.0 + 1.0"), "non-finite", "non-finite"),
    Hostile("wrong_shape", _f("return x[:3]"), "expected shape", "expected shape"),
    Hostile("return_none", _f("return None"), "expected shape", "expected shape"),
    Hostile("return_string", _f("return 'abc'"), "ValueError", "ValueError"),
    Hostile("return_generator", _f("return (v for v in x)"), "TypeError", "TypeError"),
    Hostile("huge_output", _f("return np.zeros(20_000_000)"), "outputs larger", "outputs larger", harness=PASSTHROUGH),
    Hostile("object_output", _f("return [x, None]"), "not an array", "not an array", harness=PASSTHROUGH),
    Hostile("lambda_output", _f("return lambda: 0"), "not an array", "not an array", harness=PASSTHROUGH),
    Hostile("object_array", _f("return np.array([x, None], dtype='O')"), "unsupported dtype", "unsupported dtype",
            harness=PASSTHROUGH),
    Hostile("bad_syntax", "def f(x):\n    return x +\n", "syntax error", "SyntaxError"),
    Hostile("no_entry", "def g(x):\n    return x\n", "no top-level function", "not a function"),
    Hostile("class_def", "class A:\n    pass\n\ndef f(x):\n    return x\n", POLICY, "NameError: __build_class__"),
]

#: Texts that make code extraction (in the parent) recurse, explode or take minutes; the
#: evaluator must fail each quickly with an ``extract:`` reason (``tests/core/test_evaluator.py``).
EXTRACTION_BOMBS: dict[str, str] = {
    "plus_chain": "def fit(x):\n    return x " + "+ x " * 700 + "\n",
    "long_plus_chain": "def fit(x):\n    return x " + "+ x " * 5000 + "\n",
    "open_braces": "def fit(x):\n    return " + "{\n" * 16000,
    "unterminated_list": "def fit(x):\n    return [" + "".join(f"{i},\n" for i in range(5000)),
    "many_unterminated_defs": "def fit(x):\n    return [\n" * 1500,
    "imports_then_unclosed": "import numpy\n" * 3000 + "def fit(x):\n    return [",
    "oversized": "def fit(x):\n    return x\n" + "#" * 200_000,
}
