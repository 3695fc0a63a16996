"""Source handling of the offline proposer: parsed parents and rendering of mutants.

Mutants are rendered straight from the AST in the form
:func:`amdlib.core.code.extract` produces (missing ``numpy``/``math`` imports
first, then the imports still used, then helpers and the function), so the
proposer needs no ``extract`` per proposal; only a parent not seen before is
run through it once.  A :class:`Parsed` program keeps its source text: a fresh,
mutable tree is one ``ast.parse`` away, much cheaper than ``copy.deepcopy``.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass

from amdlib.core.code import AUTO_IMPORTS, used_imports
from amdlib.core.proposers.scope import module_names, unbound_names
from amdlib.core.proposers.tree import body_of, size
from amdlib.core.parsing import parse as parse_source, unparse, walk

__all__ = ["Parsed", "Renderer", "find_def", "arg_names"]


@dataclass(frozen=True)
class Parsed:
    """A usable program as the proposer sees it (arguments renamed to the template's).

    ``key`` identifies the behaviour-relevant source (for novelty checks),
    ``size`` is the body's node count, ``known`` the names its module binds
    outside the function, ``unbound`` what the def-before-use analysis reports
    for the program itself (tolerated in its mutants, nothing more).
    """

    source: str
    key: str
    size: int
    known: frozenset[str]
    unbound: frozenset[str]

    def fresh(self, name: str) -> tuple[ast.Module, ast.FunctionDef]:
        """A new, freely mutable (module, function) pair."""
        module = parse_source(self.source)
        func = find_def(module, name)
        assert func is not None  # rendered by Renderer, so the function is there
        return module, func


def find_def(module: ast.Module, name: str) -> ast.FunctionDef | None:
    """The top-level ``def name`` of ``module``."""
    return next((s for s in module.body if isinstance(s, ast.FunctionDef) and s.name == name), None)


def arg_names(func: ast.FunctionDef) -> list[str]:
    """Positional parameter names."""
    return [a.arg for a in func.args.posonlyargs + func.args.args]


def _used(nodes: list[ast.stmt]) -> set[str]:
    """Names read in ``nodes`` (the ``np`` of ``np.sqrt`` included)."""
    out: set[str] = set()
    for stmt in nodes:
        for n in walk(stmt):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                out.add(n.id)
    return out


class Renderer:
    """Renders (module, function) pairs with the template's signature and docstring."""

    def __init__(self, template: ast.FunctionDef, allowed_modules: tuple[str, ...]) -> None:
        self.template = template
        self.name = template.name
        self.allowed = tuple(allowed_modules)
        self.auto = frozenset(k for k, (mod, _) in AUTO_IMPORTS.items() if mod in self.allowed)
        self._docstring = template.body[: len(template.body) - len(body_of(template))]

    def render(self, module: ast.Module, func: ast.FunctionDef) -> tuple[str, str]:
        """(module source, key) of ``module`` with ``func`` as the template's function."""
        new = ast.FunctionDef(name=self.name, args=self.template.args,
                              body=self._docstring + body_of(func), decorator_list=[], returns=None,
                              type_comment=None, type_params=[])
        rest = [s for s in module.body if not isinstance(s, (ast.Import, ast.ImportFrom))
                and not (isinstance(s, ast.FunctionDef) and s.name == self.name)]
        where = next((i for i, s in enumerate(module.body) if s is func), len(module.body))
        before = sum(1 for s in module.body[:where] if s in rest)
        body = rest[:before] + [new] + rest[before:]
        used = _used(body)
        imports = used_imports(module.body, used)
        bound = module_names(ast.Module(body=imports + rest, type_ignores=[]))
        bound |= {a.arg for a in walk(self.template.args) if isinstance(a, ast.arg)}
        bound |= {n.id for n in walk(new) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        added = [parse_source(line).body[0] for short, (_, line) in AUTO_IMPORTS.items()
                 if short in self.auto and short in used and short not in bound]
        out = ast.Module(body=added + imports + body, type_ignores=[])
        source = unparse(ast.fix_missing_locations(out))
        return source, hashlib.sha1(source.encode()).hexdigest()

    def parsed(self, module: ast.Module, func: ast.FunctionDef) -> Parsed:
        """A :class:`Parsed` of a program (rendered first, so keys compare with mutants')."""
        return self.rendered(*self.render(module, func))

    def rendered(self, source: str, key: str) -> Parsed:
        """The :class:`Parsed` of ``source`` as :meth:`render` wrote it (``key``: its digest)."""
        module = parse_source(source)
        func = find_def(module, self.name)
        assert func is not None
        known = frozenset(module_names(ast.Module(
            body=[s for s in module.body if s is not func], type_ignores=[])) | self.auto)
        return Parsed(source, key, size(func), known, frozenset(unbound_names(func, known)))
