"""Print requirements.lock: the exact version of every installed distribution but amdlib.

Run by `make lock` inside a scratch venv that installed amdlib and its test extras. Local
version labels are dropped (``torch==2.13.0+cpu`` pins ``torch==2.13.0``) so that the lock
also serves a machine whose index offers only the plain build.
"""

from __future__ import annotations

import re
from importlib import metadata

SKIP = {"amdlib", "pip", "setuptools", "wheel"}


def main() -> None:
    pins = {}
    for dist in metadata.distributions():
        name = re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
        if name not in SKIP:
            pins[name] = dist.version.split("+", 1)[0]
    print("# Exact versions of every dependency, installed by the Makefile as constraints.")
    print("# Regenerate with `make lock` after changing pyproject.toml; a test checks environment.yml.")
    for name in sorted(pins):
        print(f"{name}=={pins[name]}")


if __name__ == "__main__":
    main()
