""" "Check my connection": the connection check (services/doctor.py) in a small dialog.

The checks run off the GUI thread; each finding then shows as a StatusLine (a symbol and
words, never colour alone), its code beside it for the helpdesk. Copy puts the findings on
the clipboard for an email to IT. It opens from R-2 and from the overview.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from ..domain.errors import EcmtError
from . import tasks
from .widgets import Mood, StatusLine, button, label, scrolling

if TYPE_CHECKING:
    from ..app import App
    from ..services.findings import Finding

_MOODS = {"ok": Mood.OK, "warning": Mood.WARNING, "problem": Mood.PROBLEM}
_SYMBOLS = {"ok": "✔", "warning": "!", "problem": "✖"}


def run_checks(app: App) -> list[Finding]:
    from ..services.doctor import check_connection

    return check_connection(app)


def finding_text(finding: Finding) -> str:
    code = f" ({finding.code.value})" if finding.code else ""
    return f"{finding.words}{code}"


class ConnectionCheckDialog(QDialog):
    def __init__(self, app_for: Callable[[], App], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Check my connection")
        self.setAccessibleName("Check my connection")
        self.findings: list[Finding] = []
        self.done_ = False
        layout = QVBoxLayout(self)
        self.heading = label(
            "This checks the way from this computer to the certificate service, step by step.",
            name="What this checks",
        )
        layout.addWidget(self.heading)
        self.summary = StatusLine("Checking…", Mood.WORKING)
        layout.addWidget(self.summary)
        area, self.lines = scrolling("Findings")
        layout.addWidget(area, 1)
        buttons = QDialogButtonBox()
        self.copy_button = button("&Copy", "Copy the findings", self.copy)
        self.copy_button.setEnabled(False)
        self.again_button = button("Check &again", "Check again", self.start)
        self.again_button.setEnabled(False)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.again_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._app_for = app_for
        self.resize(640, 420)
        self.start()

    def start(self) -> None:
        self.done_ = False
        self.copy_button.setEnabled(False)
        self.again_button.setEnabled(False)
        self.summary.set("Checking the connection to the certificate service…", Mood.WORKING)
        while self.lines.count():
            item = self.lines.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        app_for = self._app_for

        def work(_report: Callable[[Any], None], _cancel: threading.Event) -> object:
            return run_checks(app_for())

        tasks.start(work, self._checked, self._failed)

    def _checked(self, findings: list[Finding]) -> None:
        self.findings = findings
        for finding in findings:
            line = StatusLine(finding_text(finding), _MOODS[finding.level.value])
            line.setObjectName(f"finding-{finding.check}")
            self.lines.addWidget(line)
        self.lines.addStretch(1)
        levels = {f.level.value for f in findings}
        if "problem" in levels:
            self.summary.set(
                "Something is in the way (✖ below). Copy the findings for your IT team or "
                "the helpdesk.",
                Mood.PROBLEM,
            )
        elif "warning" in levels:
            self.summary.set("The connection works, with a warning (! below).", Mood.WARNING)
        else:
            self.summary.set("The connection to the certificate service works.", Mood.OK)
        self._finished()

    def _failed(self, error: EcmtError) -> None:
        self.summary.set(f"The check could not be run: {error.title} ({error.code}).", Mood.PROBLEM)
        self._finished()

    def _finished(self) -> None:
        self.done_ = True
        self.copy_button.setEnabled(bool(self.findings))
        self.again_button.setEnabled(True)

    def text(self) -> str:
        return "\n".join(
            f"{_SYMBOLS[f.level.value]} {f.check}: {finding_text(f)}" for f in self.findings
        )

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())
