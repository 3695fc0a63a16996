"""Hostile candidates that get past the Python layer, so that only the kernel layers stand.

``CHAIN`` reaches ``os``, ``sys`` and the real ``builtins`` through plain
attributes of numpy (``np.ma.core.inspect``, ``np.random.bit_generator.re.
enum.bltns``) and ``inspect.getmembers`` (no underscore, no denied name),
then switches the audit hook off by setting ``jail._STATE.armed = False``.
Each attack then tries what the kernel must stop: files in world-writable
places, /dev/shm and $HOME, TCP and UDP to 127.0.0.1, fork/spawn/exec,
reading another process's environment, pidfd and kill, ptrace, raising
limits; forged frames on the result pipe; and state left behind for later
candidates (warnings filters, the harness, the payload, numpy's global
state, timers and signal handlers); descriptors a candidate process might
have inherited, and system calls that would tell which other processes
exist. Candidates that outlive their answer (alone, in bursts, with big
memory) and batches of big results are in ``test_denial``. See ``hostile``
for the modes and placeholders.
"""

from __future__ import annotations

from tests.core.sandbox.hostile import CONTAINED, OK, POLICY, Hostile

VIOLATION = r"^protocol violation"

CHAIN = """
import numpy as np


def members(obj):
    return dict(np.ma.core.inspect.getmembers(obj))


def real():
    # os, sys and the real builtins, reached through attributes of numpy
    ins = np.ma.core.inspect
    return members(ins)['os'], members(ins)['sys'], np.random.bit_generator.re.enum.bltns


def disarm():
    os, sys, bl = real()
    jail = members(sys)['modules']['amdlib.core.sandbox.jail']
    members(bl)['setattr'](members(jail)['_STATE'], 'armed', False)
    return os, sys, bl


def attempt(fn, *args):
    try:
        return fn(*args)
    except Exception as err:
        return err


def errno(bl, out):
    return out.errno if isinstance(out, bl.OSError) else 0


def frame(head, body=b''):
    return b'AMDS' + len(head).to_bytes(4, 'little') + len(body).to_bytes(8, 'little') + head + body
"""


def _attack(body: str) -> str:
    lines = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return f"{CHAIN}\n\ndef f(x):\n{lines}\n"


def _k(name: str, body: str, runtime: str = CONTAINED, kernel: str = CONTAINED, timeout: float = 10.0) -> Hostile:
    # The AST policy stops all of them at 'inspect'; the other two modes are what this file is about.
    return Hostile(name, _attack(body), POLICY, runtime, timeout=timeout, kernel=kernel)


_HEAD = b'{"kind": "result", "ok": true, "id": 1, "arrays": [["y", "f8", [8], 0]]}'

KERNEL_CORPUS: list[Hostile] = [
    # --- the attribute chain itself, and the hook switched off ---
    _k("chain_reaches_os", "os, sys, bl = real()\nos.system('touch {WATCH}/chain')\nreturn x",
       runtime=r"PermissionError: sandbox: 'os.system'", kernel=CONTAINED),
    _k("disarm_system", "os, sys, bl = disarm()\nrc = os.system('touch {WATCH}/system')\nreturn x * 0 + rc"),
    _k("disarm_files", """
os, sys, bl = disarm()
attempt(bl.open, '{WATCH}/open', 'w')
attempt(os.open, '{WATCH}/osopen', os.O_CREAT | os.O_WRONLY)
attempt(os.mkdir, '{WATCH}/dir')
attempt(os.symlink, '/etc/passwd', '{WATCH}/link')
attempt(os.mkfifo, '{WATCH}/fifo')
attempt(os.rename, '{WATCH}/keep', '{WATCH}/moved')
attempt(os.remove, '{WATCH}/keep')
attempt(os.mkdir, '{SHM}')
attempt(bl.open, '{HOME}', 'w')
attempt(os.open, '{WATCH}', os.O_TMPFILE | os.O_WRONLY)
return x"""),
    _k("disarm_read_files", """
os, sys, bl = disarm()
data = [attempt(lambda: bl.open('/etc/passwd').read()), attempt(os.listdir, '/'), attempt(os.listdir, '{WATCH}')]
ok = [d for d in data if not isinstance(d, Exception)]
if ok:
    raise ValueError('read: ' + repr(ok)[:100])
return x""", runtime=OK, kernel=OK),
    _k("disarm_network", """
os, sys, bl = disarm()
socket = members(sys)['modules']['socket']


def tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(('127.0.0.1', {PORT}))
    s.sendall(b'secret')


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b'secret', ('127.0.0.1', {UDP}))


attempt(tcp)
attempt(udp)
return x"""),
    _k("disarm_processes", """
os, sys, bl = disarm()
attempt(os.fork)
attempt(os.posix_spawn, '/usr/bin/touch', ['touch', '{WATCH}/spawn'], {})
ct = members(sys)['modules']['ctypes']
attempt(lambda: ct.CDLL(None).system(b'touch {WATCH}/ctsystem'))
attempt(os.execv, '/usr/bin/touch', ['touch', '{WATCH}/exec'])
return x"""),
    _k("proc_environ", """
os, sys, bl = disarm()
seen = []
for pid in ({PID}, {PARENT}, os.getppid(), 1, 'self'):
    seen.append(repr(attempt(lambda: bl.open('/proc/' + str(pid) + '/environ', 'rb').read())))
names = attempt(os.listdir, '/proc')
for name in names if isinstance(names, list) else []:
    if name.isdigit():
        seen.append(repr(attempt(lambda: bl.open('/proc/' + name + '/environ', 'rb').read())))
raise ValueError(' '.join(s for s in seen if 'SECRET' in s) or 'nothing')""",
       runtime="ValueError: nothing", kernel="ValueError: nothing"),
    _k("pidfd_and_kill", """
os, sys, bl = disarm()
signal = members(sys)['modules']['signal']
fd = attempt(os.pidfd_open, {PID})
attempt(signal.pidfd_send_signal, fd, 9)
attempt(os.kill, {PID}, 9)
attempt(os.kill, {PARENT}, 15)
attempt(os.kill, os.getppid(), 9)
attempt(os.kill, 1, 9)
attempt(os.killpg, 0, 9)
attempt(os.kill, -1, 9)
return x"""),
    _k("ptrace_and_namespaces", """
os, sys, bl = disarm()
libc = members(sys)['modules']['ctypes'].CDLL(None)
rc = [libc.ptrace(16, {PID}, 0, 0), libc.unshare(0x10000000), libc.setns(0, 0)]
return x * 0 + sum(rc)""", runtime=OK, kernel=OK),
    _k("raise_limits", """
os, sys, bl = disarm()
resource = members(sys)['modules']['resource']
attempt(resource.setrlimit, resource.RLIMIT_AS, (-1, -1))
attempt(resource.setrlimit, resource.RLIMIT_NOFILE, (1024, 1024))
return np.ones((10**5, 10**5))""", runtime="memory limit", kernel="memory limit"),
    # --- forged frames on the result pipe (fd 3); os.write raises no audit event ---
    _k("forge_unhashable_dtype", """
os, sys, bl = real()
os.write(3, frame(b'{"kind": "result", "ok": true, "id": 1, "arrays": [["y", ["f8"], [8], 0]]}', bytes(64)))
os._exit(0)""", runtime=VIOLATION, kernel=VIOLATION),
    _k("forge_prefix_then_result", "os, sys, bl = real()\nos.write(3, b'AMDS')\nreturn x",
       runtime=VIOLATION, kernel=VIOLATION),
    _k("forge_deep_json", "os, sys, bl = real()\nos.write(3, frame(b'[' * 200000))\nos._exit(0)",
       runtime=VIOLATION, kernel=VIOLATION),
    _k("forge_huge_int", "os, sys, bl = real()\nos.write(3, frame(b'{\"id\": ' + b'7' * 6000 + b'}'))\nos._exit(0)",
       runtime=VIOLATION, kernel=VIOLATION),
    _k("forge_shape_bomb", """
os, sys, bl = real()
os.write(3, frame(b'{"kind": "result", "ok": true, "id": 1, "arrays": [["y", "f8", [0, 4611686018427387904], 0]]}'))
os._exit(0)""", runtime=VIOLATION, kernel=VIOLATION),
    _k("forge_overlap", """
os, sys, bl = real()
head = b'{"kind": "result", "ok": true, "id": 1, "arrays": [["y", "f8", [8], 0], ["z", "f8", [8], 0]]}'
os.write(3, frame(head, bytes(64)))
os._exit(0)""", runtime=VIOLATION, kernel=VIOLATION),
    _k("forge_extra_fields", """
os, sys, bl = real()
os.write(3, frame(b'{"kind": "result", "ok": false, "id": 1, "reason": 3, "recycle": true}'))
os._exit(0)""", runtime=VIOLATION, kernel=VIOLATION),
    _k("forge_score_for_later", f"""
os, sys, bl = real()
for i in range(1, 50):
    os.write(3, frame({_HEAD!r}.replace(b'"id": 1', b'"id": ' + str(i).encode()), bytes(64)))
os._exit(0)""", runtime=VIOLATION, kernel=VIOLATION),
    _k("forge_then_spin", f"""
os, sys, bl = real()
os.write(3, frame({_HEAD!r}, bytes(64)))
while True:
    pass""", timeout=1.0),
    # --- state left for later candidates (each later candidate is a fresh process) ---
    _k("poison_warnings", "os, sys, bl = disarm()\nmembers(sys)['modules']['warnings'].simplefilter('error')\nreturn x"),
    _k("poison_harness", """
os, sys, bl = disarm()
harnesses = members(sys)['modules']['amdlib.core.sandbox.harnesses']
members(bl)['setattr'](harnesses, 'vectorised', lambda fn, p: {'y': p['x'] * 0})
return x"""),
    _k("poison_payload", """
os, sys, bl = disarm()
ct = members(sys)['modules']['ctypes']
ct.memset(x.ctypes.data, 0, x.nbytes)
return x"""),
    _k("poison_numpy_state", """
os, sys, bl = disarm()
np.seterr(all='raise')
np.random.seed(7)
members(bl)['setattr'](np, 'sqrt', lambda v: v * 0)
return x"""),
    _k("poison_timers_and_signals", """
os, sys, bl = disarm()
signal = members(sys)['modules']['signal']
attempt(signal.setitimer, signal.ITIMER_PROF, 0.001, 0.001)
attempt(signal.signal, signal.SIGVTALRM, lambda *a: None)
attempt(signal.setitimer, signal.ITIMER_VIRTUAL, 0.001, 0.001)
attempt(signal.signal, signal.SIGXCPU, signal.SIG_IGN)
return x"""),
    _k("poison_recursion_limit", """
os, sys, bl = disarm()
sys.setrecursionlimit(50)
return x"""),
    # --- what reaches a candidate process: its result pipe (fd 3), nothing else ---
    _k("inherited_descriptors", """
os, sys, bl = disarm()
# lseek (allowed) tells an open descriptor (ESPIPE or an offset) from a closed one (EBADF)
fds = [fd for fd in range(4096) if errno(bl, attempt(os.lseek, fd, 0, 1)) != 9]
raise ValueError('open descriptors ' + repr(fds))""",
       runtime=r"^ValueError: open descriptors \[3\]$", kernel=r"^ValueError: open descriptors \[3\]$"),
    # --- no system call tells which other processes exist (the answer for every pid is EPERM) ---
    _k("pid_enumeration", """
os, sys, bl = disarm()
ct = members(sys)['modules']['ctypes']
time = members(sys)['modules']['time']
libc = ct.CDLL(None, use_errno=True)
limit = (ct.c_ulong * 2)()


def prlimit(pid):
    if libc.prlimit(pid, 7, None, limit) != 0:
        raise bl.OSError(ct.get_errno(), 'prlimit')


def cpu_clock(pid):
    return (~pid << 3) | 2


seen = set()
for pid in [*range(1, 80), {PID}, {PARENT}, os.getppid()]:
    if pid == os.getpid():
        continue
    for name, call in (('prlimit', prlimit), ('affinity', os.sched_getaffinity),
                       ('clock_getres', lambda p: time.clock_getres(cpu_clock(p))),
                       ('clock_gettime', lambda p: time.clock_gettime(cpu_clock(p)))):
        if errno(bl, attempt(call, pid)) != 1:  # anything but EPERM tells something
            seen.add(name + ' ' + str(pid))
raise ValueError('seen ' + repr(sorted(seen)[:5]))""",
       runtime=r"^ValueError: seen \[\]$", kernel=r"^ValueError: seen \[\]$"),
]
