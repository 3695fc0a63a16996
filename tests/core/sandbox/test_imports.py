"""Modules of the sandbox package import each other by full name, never the package's ``__init__``
(which only re-exports): no import cycle through it."""

from __future__ import annotations

import ast
from pathlib import Path

import amdlib.core.sandbox as package

PACKAGE = "amdlib.core.sandbox"


def test_no_module_imports_the_package_init() -> None:
    offenders = []
    for path in sorted(Path(package.__file__).parent.glob("*.py")):
        if path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == PACKAGE:
                offenders.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Import) and any(alias.name == PACKAGE for alias in node.names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
