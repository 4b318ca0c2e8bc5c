"""`ecmt`: the headless client for IT administrators (subcommands arrive with the client core)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from . import __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ecmt", description="Renew the ePractitioner certificate")
    parser.add_argument("--version", action="version", version=f"ecmt {__version__}")
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
