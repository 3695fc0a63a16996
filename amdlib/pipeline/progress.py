"""Progress of `amd run` while the notebook executes: which cell runs, and what it prints.

:class:`RunProgress` receives the notebook's stream output (papermill's ``stdout_file`` and
``stderr_file``) and cell starts (a papermill engine wrapping the execution manager). On a
terminal the text passes through as is, so progress bars redraw in place. Anywhere else (a
pipe, a CI log) each carriage-return redraw becomes a line, at most one every
``interval`` seconds, and a quiet cell still gets a line every ``heartbeat`` seconds, so a log
shows steady, readable progress instead of carriage-return noise.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator, TextIO

_HEADING = re.compile(r"^\s*#+\s*(.+?)\s*$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
ENGINE = "amdlib-progress"


def cell_labels(nb: Any) -> dict[int, str]:
    """Code cell index -> what it is about: the last markdown heading above it and its first line."""
    labels, heading = {}, ""
    for i, cell in enumerate(nb.cells):
        lines = [ln for ln in str(cell.source).splitlines() if ln.strip()]
        if cell.cell_type == "markdown":
            found = [m.group(1) for m in map(_HEADING.match, lines) if m]
            heading = found[-1] if found else heading  # the heading nearest above the code
        elif cell.cell_type == "code":
            tags = cell.get("metadata", {}).get("tags", [])
            code = next((ln.strip() for ln in lines if not ln.lstrip().startswith("#")), "")
            if "injected-parameters" in tags:
                code = "(parameters of this run)"
            elif "parameters" in tags:
                code = "(the notebook's default parameters)"
            text = f"{heading}: {code}" if heading and code else heading or code
            labels[i] = text if len(text) <= 90 else text[:89] + "\u2026"
    return labels


class RunProgress:
    """Writes a run's progress to ``out`` (a terminal: raw; otherwise: one line per step)."""

    def __init__(self, out: TextIO | None = None, interval: float = 5.0, heartbeat: float = 8.0,
                 tty: bool | None = None, quiet: bool = False) -> None:
        self.out = out or sys.stdout
        self.quiet = quiet  # only cells, progress bars and heartbeats; not the notebook's printed lines
        self.tty = self.out.isatty() if tty is None else tty
        self.interval, self.heartbeat = interval, heartbeat
        self.t0 = time.monotonic()
        self.last_line = self.t0
        self.cell = ""
        self.cell_t0 = self.t0
        self.pending = ""     # the latest redraw not yet shown (non-terminal)
        self.pending_from = ""  # the stream it came from
        self.partial = ""     # a terminal's cursor is mid-line after this text
        # Per stream (stdout, stderr: a progress bar on one must not run into a line printed on the
        # other): the text after its last newline or carriage return, and whether its last segment
        # was a redraw (then its next full line is the bar's final state).
        self.partials: dict[str, str] = {}
        self.in_bar: dict[str, bool] = {}
        self.last_redraw = 0.0
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def __enter__(self) -> "RunProgress":
        if not self.tty:
            self._thread = threading.Thread(target=self._beat, name="amd-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.settle()

    # -- what the engine and papermill call
    def cell_start(self, index: int, total: int, label: str) -> None:
        self.settle()
        self.cell, self.cell_t0 = f"cell {index}/{total}", time.monotonic()
        self.line(f"{self.cell}  {label}")

    def stream(self, name: str = "stdout") -> "_Stream":
        return _Stream(self, name)

    # -- output
    def _stamp(self) -> str:
        return f"[{time.monotonic() - self.t0:6.1f}s]"

    def line(self, text: str) -> None:
        with self.lock:
            if self.tty and self.partial:
                self.out.write("\n")
                self.partial = ""
            self.out.write(f"{self._stamp()} {text}\n")
            self.out.flush()
            self.last_line = time.monotonic()

    def write(self, text: str, stream: str = "stdout") -> None:
        """Notebook stream text: raw on a terminal, else split into lines and redraws."""
        if self.tty:
            if self.quiet and "\r" not in text:
                return
            with self.lock:
                self.out.write(text)
                self.out.flush()
                self.partial = re.split(r"[\r\n]", text)[-1] if text else self.partial
            return
        with self.lock:
            parts = re.split(r"(\r\n|\r|\n)", self.partials.get(stream, "") + text)
            self.partials[stream] = parts[-1]
            for segment, sep in zip(parts[0:-1:2], parts[1::2]):
                self._segment(_ANSI.sub("", segment).rstrip(), sep, stream)

    def _segment(self, segment: str, sep: str, stream: str) -> None:
        if sep == "\r":  # a redraw: keep the latest, show it now and then
            if segment:
                self.pending, self.pending_from, self.in_bar[stream] = segment, stream, True
                now = time.monotonic()
                if now - self.last_redraw >= self.interval:
                    self.last_redraw = now
                    self.flush_pending()
        else:
            shown = segment if not self.quiet or self.in_bar.get(stream) else ""  # quiet: a bar's final state only
            self.in_bar[stream] = False
            if self.pending_from == stream:  # the bar's final state (shown now) replaces its last redraw
                self.pending = ""
            if shown:
                self.line(f"  {shown}")

    def settle(self) -> None:
        """Show what a finished cell left unterminated (its last redraw or a line without newline)."""
        with self.lock:
            rests = {name: _ANSI.sub("", rest).strip() for name, rest in self.partials.items()}
            self.partials = {}
            if rests.get(self.pending_from):
                self.pending = ""  # that stream's unterminated text is newer than its last redraw
            self.flush_pending()
            for name in sorted(rests):
                if rests[name]:
                    self.line(f"  {rests[name]}")

    def flush_pending(self) -> None:
        with self.lock:
            text, self.pending = self.pending, ""
            if text:
                self.line(f"  {text}")

    def _beat(self) -> None:
        while not self._stop.wait(1.0):
            if time.monotonic() - self.last_line >= self.heartbeat:
                if self.pending:
                    self.flush_pending()
                elif self.cell:
                    self.line(f"  ... {self.cell} still running ({time.monotonic() - self.cell_t0:.0f} s in this cell)")
                else:
                    self.line(f"  ... starting the notebook's kernel ({time.monotonic() - self.t0:.0f} s)")


class _Stream:
    """A file-like view of :class:`RunProgress` for papermill's ``stdout_file``/``stderr_file``."""

    def __init__(self, progress: RunProgress, name: str = "stdout") -> None:
        self.progress, self.name = progress, name

    def write(self, text: str) -> int:
        self.progress.write(text, self.name)
        return len(text)

    def flush(self) -> None:
        pass


def register_engine(progress: RunProgress) -> str:
    """Register (again) papermill's nbclient engine with cell starts reported to ``progress``."""
    from papermill.engines import NBClientEngine, papermill_engines

    class ProgressEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            labels = cell_labels(nb_man.nb)
            order = {index: n + 1 for n, index in enumerate(sorted(labels))}
            started = nb_man.cell_start

            def cell_start(cell: Any, cell_index: int = 0, **kw: Any) -> Any:
                if cell_index in labels:
                    progress.cell_start(order[cell_index], len(labels), labels[cell_index])
                return started(cell, cell_index, **kw)

            nb_man.cell_start = cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register(ENGINE, ProgressEngine)
    return ENGINE


#: The progress reporter of this process's foreground run (``amd run``), if any.
_ACTIVE: list[RunProgress] = []


@contextmanager
def reporting(progress: RunProgress) -> Iterator[RunProgress]:
    """While inside, runs executed by this process report to ``progress`` (sweep workers never do)."""
    _ACTIVE.append(progress)
    try:
        with progress:
            yield progress
    finally:
        _ACTIVE.remove(progress)


def papermill_kwargs() -> dict[str, Any]:
    """Extra ``papermill.execute_notebook`` arguments: the progress engine and streams, or none."""
    if not _ACTIVE:
        return {}
    progress = _ACTIVE[-1]
    return {"engine_name": register_engine(progress), "stdout_file": progress.stream("stdout"),
            "stderr_file": progress.stream("stderr")}
