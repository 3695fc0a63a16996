#!/usr/bin/env python3
"""Time the lines of a command's output: ``CMD | scripts/line-gaps.py [--max S]``.

Passes every line through, stamped with the seconds since the first byte was awaited, and at
the end prints the longest gap between two lines (from start to the first line included) and
whether any line held a carriage return. With ``--max S`` it exits 1 when a gap exceeds S.
"""

from __future__ import annotations

import argparse
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=float, default=None, help="fail (exit 1) when a gap exceeds this many seconds")
    args = parser.parse_args()
    t0 = last = time.monotonic()
    worst, worst_after, lines, returns = 0.0, "(start)", 0, 0
    previous = "(start)"
    for line in sys.stdin:
        now = time.monotonic()
        if now - last > worst:
            worst, worst_after = now - last, previous
        last, previous = now, line.rstrip("\n")[:100]
        lines += 1
        returns += "\r" in line
        sys.stdout.write(f"{now - t0:7.1f} | {line}")
        sys.stdout.flush()
    print(f"line-gaps: {lines} lines in {last - t0:.1f} s; longest gap {worst:.1f} s after: {worst_after}; "
          f"lines with a carriage return: {returns}")
    return 1 if args.max is not None and (worst > args.max or returns) else 0


if __name__ == "__main__":
    sys.exit(main())
