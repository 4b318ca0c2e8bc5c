"""`ecmt` without a subcommand: check that a window can open here, then start the desktop
app (src/ecmt/ui/desktop.py). Qt is imported only once a display is known to exist."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from .display import display_problem

if TYPE_CHECKING:
    from ..config import EcmtSettings
    from ..config_files import StartValues

NO_DISPLAY_STATUS = 2


def run_gui(
    settings: Callable[[], EcmtSettings] | None,
    demo: bool = False,
    start: StartValues | None = None,
) -> int:
    """`settings` reads the configuration (not needed in demo mode); it is called when
    the app is first used, after the first window is on screen."""
    problem = display_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return NO_DISPLAY_STATUS
    from .desktop import run_gui as run_desktop

    return run_desktop(settings, demo, start)
