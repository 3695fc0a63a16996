"""Run untrusted candidate code: static policy, warm hardened worker processes, safe transport.

```python
from amdlib.core.sandbox import Sandbox, Job, SandboxResult, check_policy
with Sandbox(workers=2, memory_mb=2048) as sb:
    res = sb.run(code, entry="priority", harness="amdlib.problems.x:harness",
                 payload={"bids": bids}, payload_key="search-abc123", timeout_s=10.0,
                 allowed_modules=("numpy", "math"))
```

Modules: ``policy`` (AST checks), ``codec`` (array transport without pickle),
``worker`` (the worker process: imports, then the per-candidate job),
``zygote`` (one fresh process per candidate, forked from a warm one),
``jail``, ``seccomp``, ``landlock`` (limits, namespaces, audit hook, kernel
filters), ``heap`` (a candidate process's heap, faulted in ahead),
``process`` (a zygote seen from the parent, hostile-frame checks, result
budgets), ``pool`` (``Sandbox``, ``Sandbox.layers()``), ``workdir``
(temporary directories, stale ones removed), ``harnesses`` (generic trusted
harnesses).

The pool is imported lazily so that a worker process, which imports this
package too, does not load threads and subprocess machinery it never uses.
Modules inside the package import each other by their full names, never
this ``__init__`` (which only re-exports), so there is no import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amdlib.core.sandbox.policy import check_policy

if TYPE_CHECKING:
    from amdlib.core.sandbox.pool import Job, Sandbox, SandboxResult, SandboxUnsafe

__all__ = ["Job", "Sandbox", "SandboxResult", "SandboxUnsafe", "check_policy"]


def __getattr__(name: str) -> Any:
    if name in ("Job", "Sandbox", "SandboxResult", "SandboxUnsafe"):
        import amdlib.core.sandbox.pool as pool

        return getattr(pool, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
