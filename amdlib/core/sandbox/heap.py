"""A candidate process's heap: freed blocks stay in it, and the megabytes it will need are
faulted in (in huge pages where the kernel offers them) while the process is still a spare.

A fresh process takes a page fault, and the kernel zeroes a page, for every page it first
writes; and glibc, by default, hands every freed block over 128 KiB back to the kernel, so a
harness that builds and drops a few arrays of a few MiB faults the same pages in again and
again (the facility harness: about 2,400 faults per call, in a warm process as much as in a
fresh one). ``configure`` (in the zygote, whose children inherit it; never in the parent)
keeps blocks under ``MMAP_BYTES`` in the heap and up to ``TRIM_BYTES`` of freed heap mapped;
``prepare`` (in a spare) faults ``size`` bytes in at the top of the heap, in 2 MiB pages where
transparent huge pages are on (one fault and one clear per 2 MiB), before the job arrives:
the candidate's arrays land on pages that are already there. Measured per
facility candidate (spare and candidate process together): 3,300 faults before, 1,000 now.
``Estimate`` sizes ``size`` from what recent candidate processes used.
"""

from __future__ import annotations

import ctypes
import functools

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MADV_HUGEPAGE, MADV_POPULATE_WRITE = 14, 23
PAGE, HUGE_PAGE = 4096, 2 << 20
#: Blocks below this come from the heap (larger ones are mmapped: numpy gives those huge pages).
MMAP_BYTES = 4 << 20
#: Freed heap kept mapped (a longer-lived process would give it back sooner).
TRIM_BYTES = 64 << 20
#: The most a spare faults in ahead of its job (below glibc's largest mmap threshold, 32 MiB).
MAX_PREFAULT = 24 << 20
_MMAP_MAX = 32 << 20


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return libc


def configure() -> None:
    """(In the zygote, once.) glibc's heap settings for its short-lived children, which inherit
    them; and the calls ``prepare`` makes resolved, so that each spare does not."""
    libc = _libc()
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_BYTES)
    libc.mallopt(M_TRIM_THRESHOLD, TRIM_BYTES)
    for name in ("malloc", "free", "madvise"):
        getattr(libc, name)


def rounded(size: int) -> int:
    """The bytes ``prepare(size)`` faults in: whole huge pages, at most ``MAX_PREFAULT``."""
    return max(0, min(MAX_PREFAULT, -(-int(size) // HUGE_PAGE) * HUGE_PAGE))


def prepare(size: int) -> None:
    """(In a spare, before its job; after ``configure`` in its zygote.) ``rounded(size)`` bytes
    faulted in at the heap's top."""
    size = rounded(size)
    if size <= 0:
        return
    libc = _libc()
    # One block from the heap's top (below the mmap threshold), faulted in, then freed: the freed
    # top stays mapped (under TRIM_BYTES) and the next allocations reuse its pages. It starts on a
    # huge-page boundary (a filler, kept, takes the gap before it: under 2 MiB of address space,
    # one page touched), so that all of it can be huge pages, not just its aligned middle.
    libc.mallopt(M_MMAP_THRESHOLD, _MMAP_MAX)
    try:
        probe = libc.malloc(size + HUGE_PAGE)  # where the top starts
        if not probe:
            return
        libc.free(probe)
        gap = -(-probe // HUGE_PAGE) * HUGE_PAGE - probe
        if gap >= 32:
            libc.malloc(gap - 8)  # a chunk of exactly ``gap`` bytes (8 of header, 16-byte granules)
        block = libc.malloc(size)
    finally:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_BYTES)
    if not block:
        return
    lo, hi = -(-block // HUGE_PAGE) * HUGE_PAGE, (block + size) // HUGE_PAGE * HUGE_PAGE
    if hi > lo:
        libc.madvise(lo, hi - lo, MADV_HUGEPAGE)  # best effort: no-op where THP is off
    start = block // PAGE * PAGE
    if libc.madvise(start, block + size - start, MADV_POPULATE_WRITE) != 0:  # Linux < 5.14
        ctypes.memset(block, 0, size)
    libc.free(block)


class Estimate:
    """How much heap the next spare faults in: the need of recent candidate processes.

    A candidate's need is read off its peak RSS growth over the zygote (from ``wait4``), which
    counts some memory that is not heap (a facility candidate: 9.7 MiB of growth for 6.9 MiB of
    heap), so a huge page of it is not counted. Growth beyond what its spare had faulted in (by
    more than the rest can explain, ``SLACK``) raises the estimate to that need at once;
    otherwise the estimate decays by 1/16 per candidate (a prefaulted page that was not needed
    cannot be told from one that was), so a run of small candidates soon costs nothing.
    """

    #: RSS growth a candidate shows beyond its heap (code pages, stack, its own small arrays).
    SLACK = 2 * HUGE_PAGE

    def __init__(self, cap: int) -> None:
        self.cap = max(0, min(MAX_PREFAULT, int(cap)))
        self.bytes = 0

    def update(self, prefaulted: int, growth: int) -> None:
        """Learn from a candidate process that had ``prefaulted`` bytes and grew by ``growth``."""
        if growth > prefaulted + self.SLACK:
            self.bytes = min(self.cap, growth - HUGE_PAGE)
        else:
            self.bytes = self.bytes * 15 // 16
