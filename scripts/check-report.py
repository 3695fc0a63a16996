#!/usr/bin/env python3
"""Check an outputs tree as a reader would meet it (after `make reproduce`, or any other).

    .venv/bin/python scripts/check-report.py [OUTPUTS] [--width PX] [--no-paper] [--jobs N] [--skip CHECK]

1. ``OUTPUTS/index.html`` and each paper's page (``paper-*.html``, item by item) in headless
   Chromium: no element wider than the window, every image loads, every figure has a caption,
   every local link points at a file, and (unless ``--no-paper``) a figure puts a paper's
   numbers beside ours, and every such figure loads.
2. ``amd runs``, ``amd runs EXP``, ``amd show RUN``, ``amd open RUN`` on every run of the tree,
   from another folder, compared with the files on disk; bad run ids give one line and exit 2.
3. Every complete run's executed notebook: no section renders empty (a heading over cells that
   show nothing, a printed table without rows, a figure cell without a figure).

Prints one line per check and each problem under it; exits 0 when all pass, 1 when one fails,
2 on bad input (no such folder, no index.html, no chromium). The page is read, never changed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from amdlib.errors import UserError  # noqa: E402
from amdlib.pipeline.report_notebook_check import notebook_problems  # noqa: E402
from amdlib.pipeline.report_page_check import WIDTH, page_problems, probe  # noqa: E402
from amdlib.pipeline.report_shell_check import shell_problems  # noqa: E402


def _section(title: str, problems: list[str], seconds: float) -> bool:
    print(f"{'ok  ' if not problems else 'FAIL'} {title} ({seconds:.1f} s)")
    for problem in problems:
        print(f"     - {problem}")
    return not problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="check an outputs tree: the report page in Chromium and amd runs/show/open")
    parser.add_argument("outputs", nargs="?", default="outputs", help="the outputs root (default: ./outputs)")
    parser.add_argument("--width", type=int, default=WIDTH, help=f"browser window width in px (default {WIDTH})")
    parser.add_argument("--no-paper", action="store_true", help="do not require a paper-comparison figure")
    parser.add_argument("--jobs", type=int, default=4, help="amd commands run at once (default 4)")
    parser.add_argument("--skip", action="append", default=[], choices=("page", "shell", "notebooks"),
                        help="leave out one of the three checks (repeatable)")
    args = parser.parse_args(argv)
    root = Path(args.outputs).expanduser().resolve()
    try:
        if not root.is_dir():
            raise UserError(f"{root} is not a folder: give the outputs root (e.g. outputs/ after `make reproduce`)")
        ok = True
        if "page" not in args.skip:
            for page in [root / "index.html", *sorted(root.glob("paper-*.html"))]:
                t0 = time.monotonic()
                report = probe(page, args.width)
                ok = _section(f"report page {page} in Chromium at {args.width} px: {report['images']} images, "
                              f"{report['figures']} figures", page_problems(report, page, args.width, not args.no_paper),
                              time.monotonic() - t0) and ok
        if "shell" not in args.skip:
            t0 = time.monotonic()
            count, problems = shell_problems(root, args.jobs)
            ok = _section(f"amd runs/show/open on the runs under {root}: {count} commands", problems,
                          time.monotonic() - t0) and ok
        if "notebooks" not in args.skip:
            t0 = time.monotonic()
            notebooks = sorted(p for p in root.glob("*/*/notebook.ipynb") if not p.parent.name.startswith("."))
            problems = [f"{nb.parent.relative_to(root)}: {problem}" for nb in notebooks for problem in notebook_problems(nb)]
            ok = _section(f"{len(notebooks)} executed notebooks: no section renders empty", problems,
                          time.monotonic() - t0) and ok
    except UserError as err:
        print(f"check-report: error: {err}", file=sys.stderr)
        return 2
    print("all checks passed" if ok else "some checks failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
