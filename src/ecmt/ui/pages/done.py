"""The last page: what happened (download, install, backup), what to expect next, and
whom to call.

It is written for the helpdesk call that follows a renewal: where the certificate went,
until when it is valid, where the backup is. The deployment's notices (the ePharmacy
PCR/PCRUA delay) come first, in a framed panel with a "!" and a heading (not colour alone),
so they are seen even when a large font pushes the rest below the fold.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QCheckBox, QFrame, QHBoxLayout, QLabel, QVBoxLayout

from ..dates import long_date
from ..reminders import REMIND_HELP, REMIND_NAME, REMIND_TEXT
from ..widgets import (
    Checklist,
    Mood,
    PathLabel,
    helpdesk_lines,
    label,
    scrolling,
    take_spare_height,
)
from .base import PageId, StepPage

if TYPE_CHECKING:
    from ...services.renewal import RenewalResult


def _on(day: datetime) -> str:
    return long_date(day)


class DonePage(StepPage):
    page_id = PageId.DONE

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.setFinalPage(True)

    def build(self) -> None:
        area, content = scrolling("Summary")
        self.body.addWidget(area)
        take_spare_height(self.layout(), self.body)
        self.summary = Checklist(
            [("download", ""), ("install", ""), ("old", ""), ("backup", "")], "What was done"
        )
        self.notices = QFrame()
        self.notices.setObjectName("notices")
        self.notices.setFrameShape(QFrame.Shape.StyledPanel)
        self.notices.setStyleSheet("#notices { border: 2px solid #8a5300; border-radius: 4px; }")
        self.notices.setAccessibleName("Important")
        panel = QVBoxLayout(self.notices)
        heading = QHBoxLayout()
        mark = QLabel("!")
        mark.setAccessibleName("Important")
        heading.addWidget(mark)
        heading.addWidget(label("Please note", bold=True), 1)
        panel.addLayout(heading)
        self.notice_text = label(name="Notices")
        panel.addWidget(self.notice_text)
        content.addWidget(self.notices)  # first: what users must not miss
        content.addWidget(self.summary)
        self.backup_path = PathLabel(name="Backup file")
        self.backup_path.setIndent(self.fontMetrics().height() + 4)  # under its line's text
        content.addWidget(self.backup_path)
        self.next_steps = label(
            "When you choose Finish, the overview shows your new certificate.", name="Next"
        )
        content.addWidget(self.next_steps)
        self.remind = QCheckBox(REMIND_TEXT)
        self.remind.setAccessibleName(REMIND_NAME)
        self.remind.setAccessibleDescription(REMIND_HELP)
        self.remind.setToolTip(REMIND_HELP)
        self.remind.setChecked(True)
        self.remind.setVisible(not self.session.demo_note)  # nothing to remind of in a demo
        content.addWidget(self.remind)
        content.addWidget(label("If you need help, call:", bold=True))
        self.helpdesks = label(name="Helpdesk numbers")
        content.addWidget(self.helpdesks)
        content.addStretch(1)

    def enter(self) -> None:
        session = self.session
        self._show_result(session.result)
        if session.backup is not None:
            self.summary.set("backup", "A backup was saved and checked:", Mood.OK)
            self.backup_path.set_path(session.backup.path)
        else:
            self.summary.set(
                "backup",
                "No backup was made. You can make one later: in the overview that opens "
                "when you choose Finish, choose Back up….",
                Mood.WARNING,
            )
        self.backup_path.setVisible(session.backup is not None)
        settings = session.app.settings
        self.notice_text.setText("\n\n".join(settings.notices))
        self.notices.setVisible(bool(settings.notices))
        self.helpdesks.setText("\n".join(helpdesk_lines(settings.helpdesks)) or "Your IT helpdesk.")
        self.complete = True

    def validatePage(self) -> bool:
        """Finish: the overview that follows sets up the reminder when asked to."""
        self.session.wants_reminder = self.remind.isVisible() and self.remind.isChecked()
        return True

    def _show_result(self, result: RenewalResult | None) -> None:
        old = self.summary.lines["old"]
        if result is None:
            self.summary.set("download", "No new certificate was downloaded.", Mood.PROBLEM)
            self.summary.set("install", "Nothing was installed.", Mood.PROBLEM)
            old.hide()
            return
        installed = result.installed
        self.summary.set("download", "Your new certificate was downloaded and checked.", Mood.OK)
        where = self.session.app.store_name
        if installed.label:
            where += f" as “{installed.label}”"
        self.summary.set(
            "install",
            f"It is installed in {where}. It is valid until {_on(installed.not_after)}.",
            Mood.OK,
        )
        self.summary.lines["install"].setToolTip(installed.location)
        if result.removed:
            self.summary.set("old", "The old certificate was removed from this computer.", Mood.OK)
        elif result.kept:
            self.summary.set("old", "The old certificate is kept until it expires.", Mood.OK)
        old.setVisible(bool(result.removed or result.kept))
