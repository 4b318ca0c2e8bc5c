"""R-2 Version check: the signed release manifest decides, not an error users learn to ignore.

The old tool greeted every user with an "initial login error" whenever a new version
existed. Here a verified manifest gives one of three plain answers: fine, a newer version
to install when convenient, or too old to go on (with the download page and its SHA-256).
A network failure is named by its code (DNS, proxy, TLS, clock) with Try again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPlainTextEdit

from ...domain.errors import EcmtError, ErrorCode
from ..session import WizardSession
from ..update_panel import PageHost, UpdatePanel
from ..widgets import Mood, StatusLine, button, label, scrolling, take_spare_height
from .base import PageId, StepPage

if TYPE_CHECKING:
    from ...app import App
    from ...services.release import ReleaseDecision

# Failures between us and the service: the panel also names the address that was tried.
NETWORK_CODES = {
    code for code in ErrorCode if code.value.startswith(("ECMT-NETWORK", "ECMT-PROXY", "ECMT-TLS"))
}


def check_release(app: App) -> ReleaseDecision:
    """Runs off the GUI thread: fetch the manifest and verify it against our own keys."""
    with app.api() as api:
        return app.release.run(api.client_release)


def fact(name: str) -> QLineEdit:
    """A long value (an address, a digest) to read, select and copy: it scrolls sideways
    instead of forcing the page wider than the screen at large text sizes."""
    widget = QLineEdit()
    widget.setReadOnly(True)
    widget.setAccessibleName(name)
    return widget


def show_fact(widget: QLineEdit, text: str) -> None:
    widget.setText(text)
    widget.setCursorPosition(0)  # show the start, not the end


class VersionPage(StepPage):
    page_id = PageId.VERSION

    def __init__(self, session: WizardSession) -> None:
        super().__init__(session)
        self.status = StatusLine()
        self.advice = label(name="What to do")
        self.download = button("&Open download page", "Open download page", self.open_download)
        self.address = fact("Download page address")
        self.digest = fact("SHA-256 of the download")
        self.facts = QFormLayout()
        self.facts.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        self.facts.addRow(label("Download page:"), self.address)  # labels that wrap
        self.facts.addRow(label("SHA-256 of the download for this computer:"), self.digest)
        self.notes = QPlainTextEdit()
        self.notes.setReadOnly(True)
        self.notes.setAccessibleName("Release notes")
        self.notes_label = QLabel("&Release notes")
        self.notes_label.setBuddy(self.notes)
        area, content = scrolling("Version check")
        for widget in (self.status, self.advice, self.download):
            content.addWidget(widget)
        content.setAlignment(self.download, Qt.AlignmentFlag.AlignLeft)
        self.update_panel = UpdatePanel(PageHost(self))  # Download and install version X
        content.addWidget(self.update_panel)
        content.addLayout(self.facts)
        content.addWidget(self.notes_label)
        content.addWidget(self.notes, 3)
        self.check_button = button(
            "Check my &connection", "Check my connection", self.check_connection
        )
        self.check_button.setToolTip(
            "Test the way to the certificate service step by step, in plain words"
        )
        content.addWidget(self.check_button)
        content.setAlignment(self.check_button, Qt.AlignmentFlag.AlignLeft)
        self.connection_dialog: object | None = None
        content.addStretch(1)  # takes the room when there are no notes to show
        self.body.addWidget(area, 1)
        take_spare_height(self.layout(), self.body)
        self._show_decision_widgets(False)

    def _show_decision_widgets(self, visible: bool, notes: bool = False, sha: bool = False) -> None:
        for widget in (self.advice, self.download):
            widget.setVisible(visible)
        self.facts.setRowVisible(self.address, visible)
        self.facts.setRowVisible(self.digest, visible and sha)
        self.notes_label.setVisible(notes)
        self.notes.setVisible(notes)

    def enter(self) -> None:
        if self.busy:
            return
        self.complete = False
        self.session.release = None
        self._show_decision_widgets(False)
        self.update_panel.offer(None)
        self.status.set("Checking for a newer version of this program…", Mood.WORKING)
        session = self.session  # the app is built on first use, off the GUI thread
        self.run(
            lambda _report, _cancel: check_release(session.app), self._decided, None, self._failed
        )

    def _decided(self, decision: ReleaseDecision) -> None:
        self.session.release = decision
        self.update_panel.offer(decision)
        running, latest = decision.running_version, decision.latest_version
        if decision.verdict == "fine":
            self.status.set(f"You have the newest version of this program ({running}).", Mood.OK)
            self._show_decision_widgets(False)
            self.complete = True
            return
        artifact = decision.artifact
        self._show_decision_widgets(True, bool(decision.release_notes.strip()), bool(artifact))
        show_fact(self.address, decision.install_page)
        show_fact(self.digest, artifact.sha256 if artifact else "")
        self.notes.setPlainText(decision.release_notes)
        if decision.verdict == "offer":
            self.status.set(
                f"A newer version, {latest}, is available. You have version {running}.", Mood.OK
            )
            self.advice.setText(
                "You can carry on with this version now and install the new one later."
            )
            self.complete = True
            return
        self.status.set(
            f"This version ({running}) is too old to renew certificates. "
            f"Version {decision.minimum_version} or newer is needed.",
            Mood.PROBLEM,
        )
        self.advice.setText(
            f"Download and install version {latest} from the download page, "
            "then start this program again."
        )
        self.session.last_error = EcmtError(
            ErrorCode.RELEASE_BLOCKED, f"{running} < minimum {decision.minimum_version}"
        )
        self.complete = False

    def _failed(self, error: EcmtError) -> None:
        if error.code is ErrorCode.RELEASE_UNAVAILABLE:
            self.status.set(f"{error.title}. {error.advice}", Mood.WARNING)
            self.complete = True
            return
        self.status.set("The version check could not be finished.", Mood.PROBLEM)
        extra = ""
        if error.code in NETWORK_CODES:
            extra = f"This program tried to reach {self.session.app.settings.server_url}."
        self.show_error(error, extra)
        self.complete = False

    def check_connection(self) -> None:
        """Check my connection: the findings in a dialog, the checks off the GUI thread."""
        from ..connection_check import ConnectionCheckDialog

        session = self.session
        dialog = ConnectionCheckDialog(lambda: session.app, self)
        self.connection_dialog = dialog
        dialog.show()

    def open_download(self) -> None:
        decision = self.session.release
        if decision is not None:
            QDesktopServices.openUrl(QUrl(decision.install_page))
