"""``ast.parse`` made safe to call from several threads at once.

CPython 3.11's AST constructor keeps a recursion counter that concurrent parses can corrupt
("SystemError: AST constructor recursion depth mismatch", python/cpython#106905). The sandbox
checks candidates from a thread pool while the search parses proposals, so every parse in the
package goes through one lock. Parsing is fast next to evaluation: the lock costs nothing.
"""

from __future__ import annotations

import ast
import threading

_LOCK = threading.Lock()


def parse(source: str, mode: str = "exec") -> ast.AST:
    """``ast.parse(source, mode=mode)`` under the package-wide parse lock."""
    with _LOCK:
        return ast.parse(source, mode=mode)
