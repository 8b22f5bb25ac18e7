"""Command line: ``python -m typedredis COMMAND`` is the ``typedredis`` command (typedredis.cli)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
