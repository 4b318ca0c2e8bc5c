""" "Remind me before it expires": the Done page's box and the overview's, both driving
the same daily check as `ecmt remind install` (services/schedule.py), off the GUI thread.

The check uses the same settings files as this run, so it looks in the same store. In
demo mode there is nothing to remind of once the program quits, so the box is not shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QWidget

from ..domain.errors import EcmtError
from . import tasks
from .widgets import label

if TYPE_CHECKING:
    from ..app import App
    from ..services.schedule import Installed
    from .session import WizardSession

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


class ReminderRow(QWidget):
    """The overview's box: shows whether the daily check is set up, and changes it.
    `said` gets the sentence for the status bar, `failed` an error for the error panel."""

    def __init__(
        self,
        session: WizardSession,
        said: Callable[[str], None],
        failed: Callable[[EcmtError], None],
    ) -> None:
        super().__init__()
        self.session = session
        self._said = said
        self._failed = failed
        self.box = QCheckBox(REMIND_TEXT)
        self.box.setAccessibleName(REMIND_NAME)
        self.box.setAccessibleDescription(REMIND_HELP)
        self.box.setToolTip(REMIND_HELP)
        self.box.clicked.connect(self._clicked)  # the user's clicks, not ours
        self.status = label(name="Reminders")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.box)
        row.addWidget(self.status, 1)
        self.setVisible(not session.demo_note)  # a demo ends when it quits

    def look_up(self) -> None:
        if self.isHidden():
            return
        session = self.session
        run(lambda: current(session.app), self._found, self._unknown)

    def turn_on(self) -> None:
        """After a renewal with the box ticked on the Done page."""
        if self.isHidden():
            return
        self.box.setChecked(True)
        self._clicked(True)

    def _found(self, installed: object) -> None:
        from ..services.schedule import Installed

        on = isinstance(installed, Installed)
        self.box.setEnabled(True)
        self.box.setChecked(on)
        self.status.setText("A daily check is set up." if on else "")
        self.status.setToolTip(installed.where if isinstance(installed, Installed) else "")

    def _unknown(self, error: EcmtError) -> None:
        """No scheduler to ask (or it did not answer): said quietly, not as an error."""
        self.box.setChecked(False)
        self.box.setEnabled(False)
        self.status.setText(f"Reminders cannot be set up here: {error.title}.")

    def _clicked(self, on: bool) -> None:
        session = self.session
        self.box.setEnabled(False)
        self.status.setText("Setting up the reminder…" if on else "Taking it away…")

        def work() -> object:
            return turn_on(session.app) if on else turn_off(session.app)

        run(work, lambda result: self._done(on, result), self._refused)

    def _done(self, on: bool, result: object) -> None:
        from ..services.schedule import Installed

        self.box.setEnabled(True)
        if on and isinstance(result, Installed):
            self.status.setText("A daily check is set up.")
            self.status.setToolTip(result.where)
            self._said(said(result))
        else:
            self.status.setText("No reminders: the daily check is off.")

    def _refused(self, error: EcmtError) -> None:
        self.box.setEnabled(True)
        self.box.setChecked(False)
        self.status.setText("")
        self._failed(error)
