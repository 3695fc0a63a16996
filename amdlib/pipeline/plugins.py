"""Resolve ``"module:function"`` hooks named by experiments (baselines, paper tables)."""

from __future__ import annotations

import importlib
from typing import Any, Callable

from amdlib.errors import UserError


def load_hook(spec: str) -> Callable[..., Any]:
    """The function named by ``"package.module:function"``; a bad name is a one-line error."""
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise UserError(f"hook {spec!r}: expected 'module:function'")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise UserError(f"hook {spec!r} cannot be loaded: {err}") from None
    if not callable(fn):
        raise UserError(f"hook {spec!r} is not callable")
    return fn
