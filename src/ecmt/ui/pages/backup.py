"""Step R-7: the new certificate is installed; offer a password-protected backup of it.

The page opens by saying that the certificate is installed, where and until when: the
request page moves on by itself, and its own confirmation would flash past. "Yes, make a
backup" shows the shared backup form (ui/backup_form.py); Next then makes the backup, and
moves on once the file has been read back and checked. Cancel is "Close" here: the
renewal is done and cannot be undone by closing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QRadioButton, QVBoxLayout, QWizard

from ..dates import long_date
from ..widgets import Mood, StatusLine, label, scrolling, take_spare_height
from .base import PageId, StepPage

if TYPE_CHECKING:
    from ...services.backup import BackupResult
    from ..backup_form import BackupForm


def _radio(text: str, accessible: str) -> QRadioButton:
    widget = QRadioButton(text)
    widget.setAccessibleName(accessible)
    return widget


class BackupPage(StepPage):
    page_id = PageId.BACKUP

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.setButtonText(QWizard.WizardButton.CancelButton, "&Close")

    def build(self) -> None:
        area, content = scrolling("Backup")
        self.body.addWidget(area)
        take_spare_height(self.layout(), self.body)
        self.installed = StatusLine()
        self.installed.setObjectName("installedLine")
        content.addWidget(self.installed)
        content.addSpacing(self.fontMetrics().height() // 2)
        content.addWidget(label("Back up the new certificate?", bold=True))
        content.addWidget(
            label(
                "A backup is a password-protected file. With it, the certificate can be put "
                "back if this computer fails, or installed on another computer."
            )
        )
        self.yes = _radio("&Yes, make a backup", "Yes, back up the new certificate")
        self.no = _radio("N&o, not now", "No, do not back up")
        choice = QButtonGroup(self)
        row = QHBoxLayout()
        for widget in (self.yes, self.no):
            choice.addButton(widget)
            widget.toggled.connect(self._changed)
            row.addWidget(widget)
        row.addStretch(1)
        content.addLayout(row)
        self._content: QVBoxLayout = content
        self._form: BackupForm | None = None  # built when the page is first entered
        content.addStretch(1)

    @property
    def form(self) -> BackupForm:
        """The backup form, made on first use: it needs the settings and the backup
        service, which the wizard's first window does without."""
        if self._form is None:
            from ..backup_form import BackupForm

            form = BackupForm(self.session.app.settings, self.session.epoc)
            form.hide()
            form.changed.connect(self._changed)
            form.saved.connect(self._saved)
            self._content.insertWidget(self._content.count() - 1, form)  # above the stretch
            self._form = form
        return self._form

    def initializePage(self) -> None:
        self.wizard().button(QWizard.WizardButton.CancelButton).setAccessibleName("Close")
        super().initializePage()

    def cleanupPage(self) -> None:
        self.wizard().button(QWizard.WizardButton.CancelButton).setAccessibleName("Cancel")
        super().cleanupPage()

    def enter(self) -> None:
        result = self.session.result
        if result is not None:
            installed = result.installed
            self.installed.set(
                f"Your new certificate is installed in {self.session.app.store_name}. "
                f"It is valid until {long_date(installed.not_after)}.",
                Mood.OK,
            )
            self.installed.setToolTip(installed.location)
        from ..backup_form import default_file_name

        name = self.form.file_name
        if self.form.result is None and not self.form.busy and not name.isModified():
            name.setText(default_file_name(self.session.epoc))  # the EPOC is known by now
        self._changed()

    def _changed(self) -> None:
        self.form.setVisible(self.yes.isChecked() or self.form.result is not None)
        self.complete = (self.yes.isChecked() or self.no.isChecked()) and not self.form.busy

    def validatePage(self) -> bool:
        """Next with "Yes": make the backup first, and move on when it is checked."""
        if not self.yes.isChecked() or self.form.result is not None:
            return True
        result = self.session.result
        if result is not None and self.form.save(result.identity):
            self.complete = False  # until the backup is saved (or fails)
        return False

    def _saved(self, backup: BackupResult) -> None:
        self.session.backup = backup
        self._changed()
        self.go_next()
