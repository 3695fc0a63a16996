"""What this CPU offers the llama.cpp backend, for errors that name the cause.

The project builds llama-cpp-python for a fixed x86-64 baseline (scripts/llama-wheel.sh:
AVX, AVX2, FMA, F16C; no AVX-512, no AMX, never -march=native), so one wheel runs on
every CPU that has those four and a natively compiled one is never picked up by mistake.
"""

from __future__ import annotations

import platform
from pathlib import Path

#: The instruction sets the portable build uses: a CPU without one of them cannot run it.
BASELINE = ("avx", "avx2", "fma", "f16c")
#: Extensions a native build would use and the portable one leaves out (named in errors).
NATIVE_ONLY = ("avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_int8", "amx_bf16")


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The flags of the first processor in ``/proc/cpuinfo`` (empty where there is none)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def missing_baseline(flags: set[str] | None = None) -> list[str]:
    """The baseline instruction sets this x86-64 CPU lacks (none on other architectures)."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return []
    flags = cpu_flags() if flags is None else flags
    return [f for f in BASELINE if flags and f not in flags]


def describe(flags: set[str] | None = None) -> str:
    """A short phrase naming the CPU's relevant extensions, e.g. ``AVX2 FMA F16C AVX512F AMX_TILE``."""
    flags = cpu_flags() if flags is None else flags
    named = [f.upper() for f in BASELINE + NATIVE_ONLY if f in flags]
    return " ".join(named) or "no AVX extensions reported"
