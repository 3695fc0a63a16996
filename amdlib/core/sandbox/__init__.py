"""Run untrusted candidate code: static policy, warm hardened worker processes, safe transport.

```python
from amdlib.core.sandbox import Sandbox, Job, SandboxResult, check_policy
with Sandbox(workers=2, memory_mb=2048) as sb:
    res = sb.run(code, entry="priority", harness="amdlib.problems.x:harness",
                 payload={"bids": bids}, payload_key="search-abc123", timeout_s=10.0,
                 allowed_modules=("numpy", "math"))
```

Modules: ``policy`` (AST checks), ``codec`` (array transport without pickle),
``worker`` and ``jail`` (the worker process and its hardening), ``process``
(a worker seen from the parent), ``pool`` (``Sandbox``), ``harnesses``
(generic trusted harnesses).

The pool is imported lazily so that a worker process, which imports this
package too, does not load threads and subprocess machinery it never uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amdlib.core.sandbox.policy import check_policy

if TYPE_CHECKING:
    from amdlib.core.sandbox.pool import Job, Sandbox, SandboxResult

__all__ = ["Job", "Sandbox", "SandboxResult", "check_policy"]


def __getattr__(name: str) -> Any:
    if name in ("Job", "Sandbox", "SandboxResult"):
        from amdlib.core.sandbox import pool

        return getattr(pool, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
