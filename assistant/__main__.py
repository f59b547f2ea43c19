"""`python -m assistant` and the `assistant` entry point."""

from __future__ import annotations

import sys


def main() -> None:
    from assistant.cli import main as cli_main

    sys.exit(cli_main())


if __name__ == "__main__":
    main()
