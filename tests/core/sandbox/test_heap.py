"""A candidate process's heap: prefaulted pages are reused, and the estimate follows the need."""

from __future__ import annotations

import subprocess
import sys

from amdlib.core.sandbox import heap

MB = 1 << 20


#: A fresh interpreter (as fresh as a zygote's child: a long-lived test worker's heap could be
#: anywhere) prepares its heap, then counts the page faults of building and dropping four 2 MiB arrays.
_CHILD = """
import resource, sys
import numpy as np
from amdlib.core.sandbox import heap
heap.configure()  # as the zygote does
heap.prepare(int(sys.argv[1]))
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    np.ones((1 << 20) // 4).sum()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults_in_child(prefault: int) -> int:
    """Page faults a fresh process takes to build and drop a few 2 MiB arrays after ``prepare``."""
    done = subprocess.run([sys.executable, "-c", _CHILD, str(prefault)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout)


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
