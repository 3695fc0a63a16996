"""Candidate code handling: extract a function from free-form model text, normalise, hash.

Model answers are messy: code fenced or not, prose around it, several functions,
FunSearch-style versioned names (``priority_v2``), missing imports, output cut
off mid-line.  :func:`extract` turns such text into one complete, normalised
module that defines the requested function (plus the imports, helper functions
and constants it needs), or says why it could not.  :func:`code_hash` is the
deduplication key: insensitive to formatting, comments and docstrings.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import re
from dataclasses import dataclass

from amdlib.core.code_locate import Located, locate, split_reasoning, thought_of
from amdlib.core.sandbox.policy import bound_names
from amdlib.core.parsing import parse as parse_source, unparse, walk

__all__ = ["Extracted", "extract", "normalize", "code_hash"]

# Standard import lines for names a model commonly uses without importing them.
#: Short name -> (module, import line) that extraction adds when the name is used but not imported.
AUTO_IMPORTS = {"np": ("numpy", "import numpy as np"), "numpy": ("numpy", "import numpy"),
                "math": ("math", "import math")}
_BUILTINS = frozenset(dir(builtins))


@dataclass(frozen=True)
class Extracted:
    """Result of :func:`extract`.

    ``code`` is the normalised module source (``None`` when the text was
    unusable, ``reason`` then says why); ``thought`` is the one-line idea
    stated with the code (possibly empty).
    """

    code: str | None
    thought: str
    reason: str = ""


def normalize(code: str) -> str:
    """Canonical source of ``code`` (``ast.unparse``; comments dropped, docstrings kept).

    Raises ``SyntaxError`` if ``code`` does not parse.
    """
    return unparse(parse_source(code))


def code_hash(code: str) -> str:
    """SHA-256 hex digest of the AST of ``code`` with docstrings removed.

    Equal for sources that differ only in formatting, comments or docstrings.
    Text that does not parse is hashed on its whitespace-collapsed form, so the
    function never raises.
    """
    try:
        tree = _without_docstrings(parse_source(code))
    except SyntaxError:
        return hashlib.sha256(("unparsable:" + " ".join(code.split())).encode()).hexdigest()
    dump = ast.dump(tree, annotate_fields=False, include_attributes=False)
    return hashlib.sha256(dump.encode()).hexdigest()


def used_imports(statements: list[ast.stmt], used: set[str]) -> list[ast.stmt]:
    """The import statements among ``statements``, each pruned to the names in ``used``
    (star imports kept), dropped when nothing is left, and each kept once. Mutates the
    kept statements' name lists. Shared with the offline proposer, whose programs must
    come out exactly as extraction would write them."""
    imports: list[ast.stmt] = []
    seen: set[str] = set()
    for stmt in statements:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            aliases = [a for a in stmt.names if (a.asname or a.name).split(".")[0] in used or a.name == "*"]
            if aliases:
                stmt.names = aliases
                text = ast.unparse(stmt)
                if text not in seen:
                    seen.add(text)
                    imports.append(stmt)
    return imports


def strip_docstrings(code: str) -> str:
    """``code`` without docstrings, for showing a learned function compactly (the
    template's docstring is the same for every candidate). Unparsable code is returned as is."""
    try:
        return ast.unparse(_without_docstrings(parse_source(code)))
    except SyntaxError:
        return code


def _without_docstrings(tree: ast.Module) -> ast.Module:
    for node in walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.body and _is_docstring(node.body[0]):
                node.body = node.body[1:] or [ast.Pass()]
    return tree


def extract(text: str, name: str, allowed_modules: tuple[str, ...] = ("numpy", "math")) -> Extracted:
    """Extract the function ``name`` from model text as a complete normalised module.

    Among all code found (fenced blocks first, then unfenced code), the
    function called ``name`` or ``name_vN`` (highest N wins, then the last
    defined) is taken and renamed to ``name``; if none is so named, the last
    function not called by another is used.  ``name = lambda ...`` counts as a
    definition.  Helper functions and constants it uses are kept; unused
    imports, annotations, example calls and prose are dropped; missing
    ``numpy``/``math`` imports are added when those modules are allowed.
    A reasoning model's ``<think>`` blocks are set aside first: the final
    answer's code wins and the thought is the answer's idea.
    """
    text, reasoning = split_reasoning(text)
    if not text.strip() and reasoning:
        return Extracted(None, "", "no code found (only a reasoning block: the answer may have been cut off"
                                   " while thinking; raise max_tokens)")
    thought = thought_of(text)
    located = locate(text)
    if not located.modules:
        return Extracted(None, thought, located.reason or "no code found")
    best = _choose(located, name)
    if best is None:
        reason = located.reason or "no function definition"
        return Extracted(None, thought, reason)
    module, func = best
    if _version(func.name, name) is None and re.search(rf"def\s+{re.escape(name)}(?:_v?\d+)?\s*\(", text):
        # The named function is there but unusable: say why rather than take another one.
        return Extracted(None, thought, located.reason or f"function {name} is unusable")
    if not _returns_value(func):
        salvage = located.errors[[id(m) for m in located.modules].index(id(module))]
        return Extracted(None, thought, "function returns nothing"
                         + (f" (after dropping a tail: {salvage})" if salvage else ""))
    if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_nodes(func)):
        return Extracted(None, thought, "function is a generator (uses yield)")
    source = _assemble(module, func, name, allowed_modules)
    return Extracted(source, thought, "")


# --- choosing the function -------------------------------------------------------------


def _version(fname: str, name: str) -> int | None:
    """-1 for the exact name, N for ``name_vN`` / ``name_N``, None otherwise."""
    if fname == name:
        return -1
    m = re.fullmatch(re.escape(name) + r"_v?(\d+)", fname)
    return int(m.group(1)) if m else None


def _functions(module: ast.Module) -> list[ast.FunctionDef]:
    """Top-level function definitions, ``f = lambda ...`` converted to ``def``."""
    out: list[ast.FunctionDef] = []
    for i, node in enumerate(module.body):
        if isinstance(node, ast.FunctionDef):
            out.append(node)
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Lambda)):
            lam = node.value
            fdef = ast.FunctionDef(name=node.targets[0].id, args=lam.args,
                                   body=[ast.Return(value=lam.body)], decorator_list=[],
                                   returns=None, type_comment=None, type_params=[])
            module.body[i] = ast.copy_location(fdef, node)
            out.append(fdef)
    return out


def _choose(located: Located, name: str) -> tuple[ast.Module, ast.FunctionDef] | None:
    """The best-named function over all parsed chunks (later chunks win ties)."""
    best, best_key = None, None
    fallback = None
    for order, module in enumerate(located.modules):
        funcs = _functions(module)
        for pos, fdef in enumerate(funcs):
            v = _version(fdef.name, name)
            if v is not None:
                key = (v, order, pos)
                if best_key is None or key > best_key:
                    best, best_key = (module, fdef), key
        called = {n.func.id for f in funcs for n in walk(f)
                  if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        roots = [f for f in funcs if f.name not in called and f.args.args and _returns_value(f)]
        if roots:
            fallback = (module, roots[-1])
    return best if best is not None else fallback


def _own_nodes(func: ast.FunctionDef):
    """Nodes of ``func``'s body, not descending into nested functions or classes."""
    nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    stack = [n for n in func.body if not isinstance(n, nested)]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, nested))


def _returns_value(func: ast.FunctionDef) -> bool:
    for node in _own_nodes(func):
        if isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                return True
    return False


def _is_docstring(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))


# --- assembling the output module --------------------------------------------------------


def _strip_annotations(tree: ast.AST) -> None:
    """Remove type annotations: they add imports (typing) without changing behaviour."""
    for node in walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
            a = node.args
            for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
                if arg is not None:
                    arg.annotation = None
        body = getattr(node, "body", None)
        if isinstance(body, list):
            node.body = [_unannotate(s) for s in body]
            node.body = [s for s in node.body if s is not None] or [ast.Pass()]


def _unannotate(stmt: ast.stmt) -> ast.stmt | None:
    if isinstance(stmt, ast.AnnAssign):
        if stmt.value is None:
            return None
        return ast.copy_location(ast.Assign(targets=[stmt.target], value=stmt.value), stmt)
    return stmt


def _loaded(node: ast.AST) -> set[str]:
    return {n.id for n in walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _defined_names(stmt: ast.stmt) -> set[str]:
    """Names a top-level definition or assignment introduces."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return {n.id for t in targets for n in walk(t) if isinstance(n, ast.Name)}
    return set()


def _assemble(module: ast.Module, func: ast.FunctionDef, name: str,
              allowed_modules: tuple[str, ...]) -> str:
    old = func.name
    defs = [s for s in module.body if _defined_names(s) and s is not func]
    # Keep the definitions the function needs, transitively (helpers, constants).
    kept: list[ast.stmt] = [func]
    need = _loaded(func)
    changed = True
    while changed:
        changed = False
        for stmt in defs:
            if stmt not in kept and _defined_names(stmt) & need:
                kept.append(stmt)
                need |= _loaded(stmt)
                changed = True
    body = [s for s in module.body if any(s is k for k in kept)]
    if old != name:
        # Rename the chosen function and its self-references; drop a clashing definition.
        body = [s for s in body if name not in _defined_names(s) or s is func]
        func.name = name
        for s in body:
            for n in walk(s):
                if isinstance(n, ast.Name) and n.id == old:
                    n.id = name
    new = ast.Module(body=body, type_ignores=[])
    _strip_annotations(new)
    used = _loaded(new) | {n.value.id for n in walk(new)
                           if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    imports = used_imports(module.body, used)
    bound = bound_names(new) | bound_names(ast.Module(body=imports, type_ignores=[]))
    added = []
    for short, (mod, line) in AUTO_IMPORTS.items():
        if short in used and short not in bound and short not in _BUILTINS and mod in allowed_modules:
            added.extend(parse_source(line).body)
    new.body = added + imports + new.body
    return unparse(ast.fix_missing_locations(new))
