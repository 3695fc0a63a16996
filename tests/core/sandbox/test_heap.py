"""A candidate process's heap: prefaulted pages are reused, and the estimate follows the need."""

from __future__ import annotations

import os
import resource

import numpy as np

from amdlib.core.sandbox import heap

MB = 1 << 20


def _faults_in_child(prefault: int) -> int:
    """Page faults a fresh child takes to build and drop a few 2 MiB arrays after ``prepare``."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        heap.configure()  # as the zygote does
        heap.prepare(prefault)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(4):
            np.ones(MB // 4).sum()
        os.write(w, str(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before).encode())
        os._exit(0)
    os.close(w)
    out = os.read(r, 64)
    os.close(r)
    os.waitpid(pid, 0)
    return int(out)


def test_prefaulted_heap_takes_the_arrays_without_faults() -> None:
    # Without a prefault each array is fresh memory (512 pages); with one they land on pages already there.
    plain, prefaulted = _faults_in_child(0), _faults_in_child(8 * MB)
    assert plain > 400 and prefaulted < plain / 4, (plain, prefaulted)


def test_estimate_rises_to_the_need_and_decays() -> None:
    est = heap.Estimate(cap=16 * MB)
    est.update(prefaulted=0, growth=9 * MB)  # a huge page of the growth is not heap
    assert est.bytes == 7 * MB
    est.update(prefaulted=8 * MB, growth=11 * MB)  # explained by the prefault and the slack: no news
    assert est.bytes == 7 * MB * 15 // 16
    est.update(prefaulted=0, growth=40 * MB)
    assert est.bytes == 16 * MB
    for _ in range(100):
        est.update(prefaulted=0, growth=-MB)  # small candidates: the prefault fades away
    assert est.bytes < MB
    assert heap.rounded(1) == heap.HUGE_PAGE and heap.rounded(10**12) == heap.MAX_PREFAULT and heap.rounded(0) == 0
