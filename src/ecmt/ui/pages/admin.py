"""R-1 Administrator check: detect elevation instead of making the user confirm it.

The old tool asked everyone to "Run as administrator" and then confirm by hand. Here the
configured store decides: a per-user store passes by itself; only a store that needs
elevation, in a process without it, stops the wizard and offers the way out.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from ...domain.errors import EcmtError, ErrorCode
from ..session import WizardSession
from ..widgets import Mood, StatusLine, button, label
from .base import PageId, StepPage

if TYPE_CHECKING:
    from ...services.environment import ElevationStatus, RelaunchResult

WINDOWS_HOW = (
    "Choose Restart as administrator, then answer Yes when Windows asks for permission. The "
    "program starts again at this step; nothing has been changed yet, so nothing is lost."
)


def quit_app() -> None:
    """The elevated copy has started: this one steps aside."""
    QApplication.closeAllWindows()
    QApplication.quit()


class AdminPage(StepPage):
    page_id = PageId.ADMIN

    def __init__(self, session: WizardSession) -> None:
        super().__init__(session)
        self.platform = sys.platform  # instance attributes, so tests can play another OS
        self.quit_app: Callable[[], None] = quit_app
        self.status = StatusLine()
        self.how = label(name="How to get administrator rights")
        self.restart = button(
            "&Restart as administrator", "Restart as administrator", self.restart_elevated
        )
        self.body.addWidget(self.status)
        self.body.addWidget(self.how)
        self.body.addWidget(self.restart, 0, Qt.AlignmentFlag.AlignLeft)
        self.how.hide()
        self.restart.hide()

    def enter(self) -> None:
        if self.busy:
            return
        self.complete = False
        self.status.set("Checking whether administrator rights are needed…", Mood.WORKING)
        session = self.session

        def check(_report: object, _cancel: object) -> ElevationStatus:
            """Off the GUI thread, and the app is built here on first use: the window is
            on screen before settings, stores and cryptography are loaded."""
            from ...services.environment import elevation_check

            return elevation_check(session.app.store)

        self.run(check, self._checked, None, self._unknown)

    def _unknown(self, error: EcmtError) -> None:
        self.status.set(
            "Whether administrator rights are needed could not be checked.", Mood.PROBLEM
        )
        self.show_error(error)

    def _checked(self, status: ElevationStatus) -> None:
        from ...certstore.names import is_machine_wide

        store = self.session.app.store_name
        self.status.setToolTip(status.store)  # the technical name, with its path
        if status.ok:
            value = self.session.app.store_value
            if status.store_needs_elevation or (status.elevated and is_machine_wide(value)):
                text = f"This program is running as administrator, as {store} needs."
            else:
                text = f"No administrator rights are needed: your certificate goes to {store}."
            self.status.set(text, Mood.OK)
            self.how.hide()
            self.restart.hide()
            self.complete = True
            return
        self.status.set(
            f"Administrator rights are needed to install your certificate in {store}, "
            "and this program is running without them.",
            Mood.PROBLEM,
        )
        on_windows = self.platform == "win32"
        self.how.setText(WINDOWS_HOW if on_windows else status.how_to_elevate)
        self.how.show()
        self.restart.setVisible(on_windows)
        self.restart.setEnabled(True)
        self.complete = False

    def restart_elevated(self) -> None:
        """ShellExecute `runas` waits for the UAC answer, so it runs off the GUI thread."""
        if self.busy:
            return
        self.restart.setEnabled(False)
        self.status.set("Waiting for Windows to ask for permission…", Mood.WORKING)
        from ...services.environment import relaunch_elevated

        self.run(lambda _report, _cancel: relaunch_elevated(), self._relaunched, None, self._failed)

    def _relaunched(self, result: RelaunchResult) -> None:
        from ...services.environment import RelaunchOutcome

        self.restart.setEnabled(True)
        if result.outcome is RelaunchOutcome.STARTED:
            self.status.set("The program has started again as administrator.", Mood.OK)
            self.quit_app()
        elif result.outcome is RelaunchOutcome.CANCELLED:
            self.status.set(
                "Restarting as administrator was cancelled, so nothing changed. To carry on, "
                "choose Restart as administrator again and answer Yes when Windows asks.",
                Mood.WARNING,
            )
        else:
            detail = f"ShellExecuteW returned {result.code}, error {result.last_error}"
            self._failed(EcmtError(ErrorCode.STORE_ELEVATION_REQUIRED, detail))

    def _failed(self, error: EcmtError) -> None:
        self.restart.setEnabled(True)
        self.status.set("The program could not restart as administrator.", Mood.PROBLEM)
        self.show_error(error)
