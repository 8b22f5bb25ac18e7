"""Command line: ``python -m typedredis demo``."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; the only one is ``demo``."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["demo"]:
        print("usage: python -m typedredis demo", file=sys.stderr)
        return 2
    from .demo import main as demo

    demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
