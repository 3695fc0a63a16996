"""The zygote: a warm, pre-imported process whose children run the candidates, one each.

``prepare_layers`` runs once in the zygote: namespaces (and, with a PID
namespace, one fork so that the zygote is the namespace's init), where
Landlock is off a private mount namespace with an empty root, privilege
drop, the Landlock ruleset, the seccomp filter, and a probe child that checks
the kernel really enforces both. ``harden_early`` and ``harden_late`` run in
each candidate process, before the candidate's code is touched; the fork loop
is in ``forkserver``. Everything a candidate process would otherwise redo
(libc symbols, ctypes wrappers, the filter program, the ruleset, seeded
random states, the safe builtins) is built here once and inherited.
"""

from __future__ import annotations

import os

import amdlib.core.sandbox.heap as heap
import amdlib.core.sandbox.jail as jail
import amdlib.core.sandbox.landlock as landlock
import amdlib.core.sandbox.seccomp as seccomp

RESULT_FD, JOB_FD, WATCH_FD = 3, 4, 5
# The zygote keeps its own descriptors high so that low numbers stay free for pipes.
CONTROL_FD, RULESET_FD = 200, 201
PROBE_EXIT = 0x40


class Layers:
    """Which kernel layers this zygote applies to its candidate processes, and why not."""

    def __init__(self) -> None:
        self.status: dict[str, str] = {}
        self.landlock = False
        self.seccomp = False
        self.filter: seccomp.Filter | None = None


def harden_early(layers: Layers, memory_mb: int, keep: int = RESULT_FD) -> None:
    """First restrictions of a freshly forked candidate process (before it knows its job).

    Closes every descriptor but the result pipe (``RESULT_FD``) and those up
    to ``keep`` (a spare's job pipe, ``JOB_FD``, and the pidfd of the process
    it must outlive, ``WATCH_FD``; it closes them before its candidate runs):
    no standard streams, none of the zygote's; enters Landlock, lowers the
    memory, file, process and descriptor limits. Raises if a promised layer
    fails.
    """
    jail.close_range(0, RESULT_FD - 1)
    jail.close_range(max(RESULT_FD, keep) + 1, RULESET_FD - 1)
    jail.close_range(RULESET_FD + 1)
    if layers.landlock:
        seccomp.no_new_privs()
        landlock.restrict(RULESET_FD)
    jail.close_range(RULESET_FD, RULESET_FD)
    jail.limit_candidate(memory_mb)


def harden_late(layers: Layers, cpu_seconds: float, python_layer: bool) -> None:
    """Last restrictions, right before the candidate's code: CPU limit, seccomp, audit hook."""
    jail.limit_cpu(cpu_seconds)
    if layers.seccomp and layers.filter is not None:
        layers.filter.install(os.getpid())
    if python_layer:
        jail.arm()


def _probe(layers: Layers) -> None:
    """Fork once and apply every layer, to learn which ones this kernel really enforces."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the probe process
        bits = 0
        try:
            os.dup2(w, RESULT_FD)
            if layers.landlock:
                seccomp.no_new_privs()
                landlock.restrict(RULESET_FD)
                bits |= 1
            if layers.seccomp and layers.filter is not None:
                layers.filter.install(os.getpid())
                bits |= 2
                try:  # the filter must refuse this
                    os.getcwd()
                    bits &= ~2
                except PermissionError:
                    pass
        finally:
            os._exit(PROBE_EXIT | bits)
    os.close(w)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    ok = code & PROBE_EXIT and code >= 0
    if layers.landlock and not (ok and code & 1):
        layers.landlock, layers.status["landlock"] = False, "off: could not enforce a ruleset"
    if layers.seccomp and not (ok and code & 2):
        layers.seccomp, layers.status["seccomp"] = False, "off: the filter did not install or did not hold"


def prepare_layers(wanted: tuple[str, ...] = ("seccomp", "landlock", "mount_namespace")) -> Layers:
    """Namespaces, privilege drop and kernel-layer set-up for this zygote (before serving).

    ``wanted`` names the kernel filters to apply (tests leave some out to
    check the others alone).
    """
    layers = Layers()
    jail.limit_zygote()
    layers.status.update(jail.enter_namespaces())
    if layers.status["pid_namespace"] == "on":
        _become_pid_init()
    version = landlock.abi()
    if "mount_namespace" not in wanted:
        layers.status["mount_namespace"] = "off: not requested"
    elif "landlock" in wanted and version:
        layers.status["mount_namespace"] = "not needed (Landlock on)"
    else:  # the file-system layer without Landlock (needs the privileges dropped next)
        why = jail.private_root()
        layers.status["mount_namespace"] = "on (empty read-only root)" if not why else f"off: {why}"
    layers.status["privilege_drop"] = jail.drop_privileges()
    if "landlock" not in wanted:
        layers.status["landlock"] = "off: not requested"
    elif version:
        fd = landlock.create_ruleset(version)
        os.dup2(fd, RULESET_FD)
        os.close(fd)
        layers.landlock, layers.status["landlock"] = True, f"on (ABI {version})"
    else:
        layers.status["landlock"] = f"off: {landlock.reason()}"
    why = seccomp.available() if "seccomp" in wanted else "not requested"
    layers.seccomp, layers.status["seccomp"] = (why is None), ("on" if why is None else f"off: {why}")
    if layers.seccomp:
        layers.filter = seccomp.Filter(RESULT_FD)
    layers.status["rlimits"] = "on"
    layers.status["fresh_process_per_candidate"] = "on"
    os.environ.clear()  # the candidate processes inherit an empty environment
    layers.status["empty_environment"] = "on"
    jail.install_hook()
    _probe(layers)
    if not layers.landlock and layers.status["mount_namespace"].startswith("not needed"):
        # Too late for the namespace now (the privileges are gone): say so.
        layers.status["mount_namespace"] = "off: Landlock failed its probe after the privilege drop"
    # Resolved once here, not in each candidate process (they are copies of this one).
    jail.warm_libc()
    seccomp.warm_libc()
    heap.configure()
    return layers


def _become_pid_init() -> None:
    """Fork once: the child (init of the new PID namespace) goes on; this process waits for it."""
    pid = os.fork()
    if pid == 0:
        return
    os.close(CONTROL_FD)
    _, status = os.waitpid(pid, 0)
    os._exit(max(0, os.waitstatus_to_exitcode(status)))
