"""``python -m amdlib`` is the ``amd`` command."""

import sys

from amdlib.cli import main

sys.exit(main())
