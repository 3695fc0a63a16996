"""``ast.parse`` made safe to call from several threads at once, and a faster ``ast.unparse``.

CPython 3.11's AST constructor keeps a recursion counter that concurrent parses can corrupt
("SystemError: AST constructor recursion depth mismatch", python/cpython#106905). The sandbox
checks candidates from a thread pool while the search parses proposals, so every parse in the
package goes through one lock. Parsing is fast next to evaluation: the lock costs nothing.

:func:`walk` is ``ast.walk`` (same nodes, same order) without its two layers of generators:
the extraction, the policy check and the proposer walk each candidate's tree a dozen times.

Every candidate carries the template's docstring (a thousand characters or more), and
``ast.unparse`` escapes a docstring one character at a time in Python: a third of a search's
unparsing time went there. :func:`unparse` renders each distinct docstring once and reuses it;
its output is ``ast.unparse``'s, character for character (tests compare the two).
"""

from __future__ import annotations

import ast
import threading
from collections import deque
from typing import Iterator

_LOCK = threading.Lock()
_DOCSTRINGS: dict[tuple[str | None, str], str] = {}  # (kind, text) -> the rendered literal
_MAX_DOCSTRINGS = 256


def parse(source: str, mode: str = "exec") -> ast.AST:
    """``ast.parse(source, mode=mode)`` under the package-wide parse lock."""
    with _LOCK:
        return ast.parse(source, mode=mode)


class _Unparser(getattr(ast, "_Unparser", object)):  # type: ignore[misc]
    """``ast``'s unparser with the docstring literal memoised (it does not depend on context)."""

    def _write_docstring(self, node: ast.Constant) -> None:
        self.fill()
        key = (node.kind, node.value)
        text = _DOCSTRINGS.get(key)
        if text is None:
            start = len(self._source)
            if node.kind == "u":
                self.write("u")
            self._write_str_avoiding_backslashes(node.value, quote_types=ast._MULTI_QUOTES)  # type: ignore[attr-defined]
            text = "".join(self._source[start:])
            del self._source[start:]
            if len(_DOCSTRINGS) >= _MAX_DOCSTRINGS:
                _DOCSTRINGS.clear()
            _DOCSTRINGS[key] = text
        self.write(text)


_FAST = all(hasattr(ast, n) for n in ("_Unparser", "_MULTI_QUOTES")) and all(
    hasattr(ast._Unparser, n) for n in ("_write_docstring", "_write_str_avoiding_backslashes", "fill", "write"))


def unparse(tree: ast.AST) -> str:
    """``ast.unparse(tree)``, faster on sources with long docstrings (same text)."""
    if not _FAST:  # another Python's private unparser: the plain one
        return ast.unparse(tree)
    return _Unparser().visit(tree)


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk(node)``: the same nodes in the same (breadth-first) order, about twice as fast.

    As there, a node's children are queued before the node is yielded, so a caller may
    change the node without changing what is visited.
    """
    todo = deque((node,))
    pop, push, AST = todo.popleft, todo.append, ast.AST
    while todo:
        node = pop()
        for name in node._fields:
            field = getattr(node, name, None)
            if isinstance(field, list):
                for item in field:
                    if isinstance(item, AST):
                        push(item)
            elif isinstance(field, AST):
                push(field)
        yield node
