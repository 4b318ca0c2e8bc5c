""" "Remind me before it expires": the Done page's box and the overview's, both driving
the same daily check as `ecmt remind install` (services/schedule.py), off the GUI thread.

The check uses the same settings files as this run, so it looks in the same store. In
demo mode there is nothing to remind of once the program quits, so the box is not shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..domain.errors import EcmtError
from . import tasks

if TYPE_CHECKING:
    from ..app import App
    from ..services.schedule import Installed

REMIND_TEXT = "Re&mind me before it expires"
REMIND_NAME = "Remind me before the certificate expires"
REMIND_HELP = (
    "A daily check warns you 60, 30, 14, 7, 3 and 1 days before the certificate "
    "expires, with a message on the screen. It never asks for your PIN."
)


def turn_on(app: App) -> Installed:
    """Off the GUI thread: the daily check for this computer's user and store."""
    from ..services.runner import SubprocessRunner
    from ..services.schedule import install_daily_check

    return install_daily_check(
        SubprocessRunner(),
        store_value=app.store_value,
        needs_elevation=app.store.needs_elevation(),
    )


def turn_off(app: App) -> bool:
    from ..services.runner import SubprocessRunner
    from ..services.schedule import pick_scheduler

    return pick_scheduler(SubprocessRunner(), store_value=app.store_value).remove()


def current(app: App) -> Installed | None:
    from ..services.runner import SubprocessRunner
    from ..services.schedule import pick_scheduler

    return pick_scheduler(SubprocessRunner(), store_value=app.store_value).status()


def said(installed: Installed) -> str:
    return (
        "Reminders are on: a daily check will warn you before your certificate expires "
        f"({installed.where})."
    )


def run(
    work: Callable[[], object],
    done: Callable[[object], None],
    failed: Callable[[EcmtError], None],
) -> tasks.Task:
    return tasks.start(lambda _report, _cancel: work(), done, failed)
