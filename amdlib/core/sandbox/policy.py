"""Static (AST) policy for untrusted candidate code.

This is the first of three layers (AST policy, restricted builtins and a
guarded ``__import__`` in the worker, a run-time audit hook plus OS limits in
the worker process). It rejects, before anything runs:

* any identifier or attribute starting with ``_`` (except the throwaway ``_``),
  which closes the ``().__class__.__bases__`` family of escapes;
* attributes that reach frames, code objects, files, ctypes or raw memory
  (``gi_frame``, ``f_globals``, ``ctypeslib``, ``tofile``, ``as_strided`` ...);
* builtins that break the restriction (``eval``, ``getattr``, ``open`` ...)
  unless the program binds that name itself;
* imports outside the allow-list, relative and star imports;
* class definitions, async code and attribute assignment (no monkeypatching
  of shared modules such as ``numpy``).
"""

from __future__ import annotations

import ast
import functools
import re
from amdlib.core.parsing import parse as parse_source, walk

#: Modules every job may import.
BASE_MODULES: tuple[str, ...] = ("numpy", "math")

#: Modules (or packages) that no job may allow: they reach the OS, the
#: interpreter's internals or the file system.
NEVER_ALLOWED: frozenset[str] = frozenset(
    """os sys subprocess socket ctypes importlib builtins gc inspect pickle marshal io shutil
    pathlib threading multiprocessing signal resource types code codeop runpy pty fcntl posix
    nt mmap select selectors asyncio ssl http urllib ftplib smtplib tempfile glob fileinput
    zipfile tarfile sqlite3 shelve dbm webbrowser sysconfig site atexit faulthandler
    tracemalloc concurrent copyreg weakref dis traceback linecache pdb bdb trace cProfile
    profile timeit ast symtable logging platform getpass pwd grp posixpath ntpath zipimport
    pkgutil ensurepip venv xml email mailbox socketserver xmlrpc wsgiref uuid secrets""".split()
)

#: Attribute (and ``from x import name``) names that are never allowed. ``inspect`` and
#: ``bltns`` are module attributes of numpy internals (``np.ma.core.inspect``,
#: ``np.random.bit_generator.re.enum.bltns``) that lead to ``os`` and the real builtins.
DENIED_ATTRIBUTES: frozenset[str] = frozenset(
    """ctypes ctypeslib f2py testing distutils os sys subprocess builtins modules system popen
    spawn fork exec eval compile getattr setattr delattr globals vars locals breakpoint input open
    tofile fromfile save savez savez_compressed savetxt load loadtxt genfromtxt fromregex memmap
    open_memmap DataSource npyio write_array read_array as_strided seterrcall attrgetter
    methodcaller mro show_config show_runtime info lookfor inspect getmembers bltns""".split()
)

#: Frame, generator, traceback and code attributes (``gi_frame``, ``f_back``, ``co_code`` ...).
_INTROSPECTION_ATTR = re.compile(r"^(f|gi|cr|ag|tb|co|func|im)_")

#: Builtin names that a program may not use unless it binds the name itself.
DENIED_NAMES: frozenset[str] = frozenset(
    """eval exec compile open getattr setattr delattr globals vars locals breakpoint input help
    dir memoryview type object super exit quit copyright credits license classmethod
    staticmethod property id""".split()
)

#: Largest source accepted (characters); bigger programs are not functions.
MAX_CODE_CHARS = 200_000

_FORBIDDEN_NODES: dict[type, str] = {
    ast.ClassDef: "class definitions are not allowed",
    ast.AsyncFunctionDef: "async functions are not allowed",
    ast.Await: "await is not allowed",
    ast.AsyncFor: "async for is not allowed",
    ast.AsyncWith: "async with is not allowed",
}


def module_allowed(name: str, allowed_modules: tuple[str, ...] | frozenset[str]) -> bool:
    """True if ``name`` (dotted) is an allowed module or a submodule of one.

    ``BASE_MODULES`` are always allowed; no part of the name may start with
    ``_`` or be a denied attribute (``numpy.ctypeslib``), and the top-level
    package may not be in ``NEVER_ALLOWED``.
    """
    parts = name.split(".")
    if not name or any(not p or p.startswith("_") or p in DENIED_ATTRIBUTES for p in parts):
        return False
    if parts[0] in NEVER_ALLOWED:
        return False
    allowed = set(BASE_MODULES) | set(allowed_modules)
    return any(name == m or name.startswith(m + ".") for m in allowed)


def check_modules(allowed_modules: tuple[str, ...]) -> str | None:
    """Reason why a declared allow-list is unacceptable, or None."""
    for mod in allowed_modules:
        parts = mod.split(".")
        if parts[0] in NEVER_ALLOWED or any(p.startswith("_") or p in DENIED_ATTRIBUTES for p in parts):
            return f"module '{mod}' can never be allowed"
    return None


def _identifier_problem(name: str) -> str | None:
    if name.startswith("_") and name != "_":
        return f"name '{name}' starts with '_'"
    return None


def _attribute_problem(attr: str) -> str | None:
    if attr.startswith("_"):
        return f"attribute '{attr}' starts with '_'"
    if attr in DENIED_ATTRIBUTES or _INTROSPECTION_ATTR.match(attr):
        return f"attribute '{attr}' is not allowed"
    return None


def bound_names(tree: ast.AST) -> set[str]:
    """Names a piece of code binds itself: assignments, parameters, definitions, imports,
    exception names (so ``type = 3`` then ``type`` is fine for the policy, and code
    extraction knows which imports are already there)."""
    bound: set[str] = set()
    for node in walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound


def _node_problem(node: ast.AST, allowed_modules: tuple[str, ...], bound: set[str]) -> str | None:
    for node_type, message in _FORBIDDEN_NODES.items():
        if isinstance(node, node_type):
            return message
    if isinstance(node, ast.Attribute):
        if not isinstance(node.ctx, ast.Load):
            return "assigning or deleting attributes is not allowed"
        return _attribute_problem(node.attr)
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        if node.id in DENIED_NAMES and node.id not in bound:
            return f"builtin '{node.id}' is not allowed"
    if isinstance(node, ast.Import):
        for alias in node.names:
            if not module_allowed(alias.name, allowed_modules):
                return f"import of '{alias.name}' is not allowed"
    if isinstance(node, ast.ImportFrom):
        if node.level:
            return "relative imports are not allowed"
        if not node.module or not module_allowed(node.module, allowed_modules):
            return f"import from '{node.module}' is not allowed"
        for alias in node.names:
            if alias.name == "*":
                return "star imports are not allowed"
            problem = _attribute_problem(alias.name)
            if problem:
                return problem
    if isinstance(node, ast.MatchClass):
        for attr in node.kwd_attrs:
            problem = _attribute_problem(attr)
            if problem:
                return problem
    # Every identifier-valued field (names, args, keywords, aliases, globals ...).
    if not isinstance(node, ast.Constant):
        for _field, value in ast.iter_fields(node):
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, str):
                    for part in item.split("."):
                        problem = _identifier_problem(part)
                        if problem:
                            return problem
    return None


def check_policy(code: str, entry: str, allowed_modules: tuple[str, ...]) -> str | None:
    """Static check of candidate ``code``: None if acceptable, else a one-line reason.

    ``entry`` must be a top-level ``def``; ``allowed_modules`` extends
    ``BASE_MODULES`` (numpy, math). The verdict is a pure function of its
    arguments and is remembered for recent candidates: the evaluator checks a
    candidate before it runs and the sandbox checks the same text again.
    """
    if not isinstance(code, str):
        return "code is not a string"
    if len(code) > MAX_CODE_CHARS:
        return f"code longer than {MAX_CODE_CHARS} characters"
    if not isinstance(entry, str):
        return "entry is not a string"
    allowed = tuple(allowed_modules)
    try:
        return _check_policy(code, entry, allowed)
    except TypeError:  # an unhashable module name: checked (and refused) without the cache
        return _check_policy.__wrapped__(code, entry, allowed)


@functools.lru_cache(maxsize=256)
def _check_policy(code: str, entry: str, allowed_modules: tuple[str, ...]) -> str | None:
    problem = check_modules(tuple(allowed_modules))
    if problem:
        return problem
    try:
        tree = parse_source(code, mode="exec")
    except SyntaxError as err:
        return f"syntax error: {err.msg} (line {err.lineno})"
    except (ValueError, RecursionError, MemoryError) as err:
        return f"unparsable code: {type(err).__name__}"
    bound = bound_names(tree)
    for node in walk(tree):
        problem = _node_problem(node, tuple(allowed_modules), bound)
        if problem:
            line = getattr(node, "lineno", None)
            return f"{problem} (line {line})" if line else problem
    if not any(isinstance(n, ast.FunctionDef) and n.name == entry for n in tree.body):
        return f"no top-level function named '{entry}'"
    return None
