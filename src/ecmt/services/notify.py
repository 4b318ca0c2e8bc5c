"""Showing a reminder with the platform's own notifier, through the `Runner` port.

- Linux: `notify-send` with a default action and `--wait`: clicking the notification prints
  the action's name, and the program is opened.
- macOS: `osascript` shows a small dialog with "Renew now" and "Later" (a script's plain
  notification cannot open a program when clicked).
- Windows: Qt's tray icon (ecmt.ui.notify), so Qt stays under ui/.

The words come as separate arguments, never inside a script's text.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .reminders import Reminder
from .runner import Runner

log = logging.getLogger(__name__)

APP_NAME = "ePractitioner certificate"
OPEN_ACTION = "default"
WAIT_SECONDS = 15 * 60.0  # how long a click is waited for; the reminder stays in the tray
_OSASCRIPT = (
    "on run argv",
    "set answer to display dialog (item 2 of argv) with title (item 1 of argv) buttons "
    '{"Later", "Renew now"} default button "Renew now" giving up after 3600',
    "return button returned of answer",
    "end run",
)


def open_program(program: Sequence[str]) -> Callable[[], None]:
    """Start the desktop program (no subcommand) on its own, not as a child that waits."""

    def start() -> None:
        options: dict[str, object] = {"close_fds": True}
        if sys.platform == "win32":
            options["creationflags"] = getattr(subprocess, "DETACHED_PROCESS", 0)
        else:
            options["start_new_session"] = True
        subprocess.Popen(
            list(program),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **options,  # type: ignore[call-overload]
        )

    return start


@dataclass
class NotifySend:
    runner: Runner
    on_click: Callable[[], None]
    wait: float = WAIT_SECONDS

    def argv(self, reminder: Reminder) -> list[str]:
        return [
            "notify-send",
            f"--app-name={APP_NAME}",
            f"--urgency={'critical' if reminder.urgent else 'normal'}",
            "--icon=dialog-warning" if reminder.urgent else "--icon=dialog-information",
            f"--action={OPEN_ACTION}=Open the program",
            "--",
            reminder.title,
            reminder.text,
        ]

    def notify(self, reminder: Reminder) -> bool:
        done = self.runner(self.argv(reminder), timeout=self.wait)
        if done.returncode not in (0, 124):  # 124: nobody clicked while we waited
            log.warning("the reminder could not be shown: %s", done.said())
            return False
        if done.stdout.strip() == OPEN_ACTION:
            self.on_click()
        return True


@dataclass
class OsaScript:
    runner: Runner
    on_click: Callable[[], None]

    def argv(self, reminder: Reminder) -> list[str]:
        script = [word for line in _OSASCRIPT for word in ("-e", line)]
        return ["osascript", *script, reminder.title, reminder.text]

    def notify(self, reminder: Reminder) -> bool:
        done = self.runner(self.argv(reminder), timeout=3700)
        if not done.ok:
            log.warning("the reminder could not be shown: %s", done.said())
            return False
        if done.stdout.strip() == "Renew now":
            self.on_click()
        return True


class LogOnly:
    """Where nothing can be shown (SYSTEM, no desktop): the log line is all there is."""

    def notify(self, reminder: Reminder) -> bool:
        log.warning("no desktop to show the reminder on: %s", reminder.title)
        return False
