"""The frozen program's entry point: the same `ecmt` command as the installed script."""

from __future__ import annotations

import sys

from ecmt.cli import main

if __name__ == "__main__":
    sys.exit(main())
