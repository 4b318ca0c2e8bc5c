"""Step R-7: offer a password-protected backup of the new certificate and its key.

The password rules tick off live as the user types, so nobody has to learn them from a
refusal, and "Back up" is enabled only when they are all met. The file is written and
read back off the GUI thread (services/backup.py). An existing file is replaced only after
an explicit Yes. Passwords leave the fields as soon as the backup is safe, and go nowhere
else but the encrypted file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ...domain import password_policy
from ...domain.errors import EcmtError, ErrorCode
from ...domain.models import BackupFormat
from ...services.backup import BackupResult, BackupStage, write_backup
from ..widgets import (
    TOP_LEFT,
    Checklist,
    Mood,
    StatusLine,
    button,
    choose_folder,
    label,
    scrolling,
    take_spare_height,
)
from .base import PageId, StepPage

MATCH = "match"


def _radio(text: str, accessible: str) -> QRadioButton:
    widget = QRadioButton(text)
    widget.setAccessibleName(accessible)
    return widget


def _field(accessible: str, secret: bool = False) -> QLineEdit:
    widget = QLineEdit()
    widget.setAccessibleName(accessible)
    if secret:
        widget.setEchoMode(QLineEdit.EchoMode.Password)
    return widget


class BackupPage(StepPage):
    page_id = PageId.BACKUP

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        area, content = scrolling("Backup")
        self.body.addWidget(area)
        take_spare_height(self.layout(), self.body)
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
        self.saved = StatusLine()
        self.saved.hide()
        content.addWidget(self.saved)
        self.details = self._build_form()
        content.addWidget(self.details)
        content.addStretch(1)
        self.replace_box: QMessageBox | None = None
        self.folder_dialog: QFileDialog | None = None

    def _build_form(self) -> QWidget:
        """Each label above its field, word-wrapped: nothing is cut off at large sizes."""
        form = QWidget()
        form.hide()
        layout = QVBoxLayout(form)
        layout.setContentsMargins(0, 0, 0, 0)
        self.folder = _field("Folder for the backup")
        self.choose = button("&Choose…", "Choose the folder", self._choose_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.choose)
        self.file_name = _field("File name of the backup")
        self.password = _field("Backup password", secret=True)
        self.again = _field("Backup password again", secret=True)
        for text, widget, field in (
            ("Fo&lder (your Board may have advised one):", self.folder, row),
            ("File n&ame:", self.file_name, self.file_name),
            ("&Password:", self.password, self.password),
            ("Type the password a&gain:", self.again, self.again),
        ):
            caption = label(text)
            caption.setBuddy(widget)
            layout.addWidget(caption)
            if isinstance(field, QHBoxLayout):
                layout.addLayout(field)
            else:
                layout.addWidget(field)
        rules = [(r.id, r.label) for r in password_policy.check("").rules]
        self.checklist = Checklist([*rules, (MATCH, "The two passwords match")], "Password rules")
        layout.addWidget(self.checklist)
        layout.addWidget(label("Format of the file:"))
        self.formats = QButtonGroup(self)
        self.format_buttons: dict[BackupFormat, QRadioButton] = {}
        for fmt in BackupFormat:  # a radio button cannot wrap: the long part is a label
            name, _, more = fmt.plain_words.partition(" (")
            option = _radio("&" + name, f"Format: {fmt.plain_words}")
            self.formats.addButton(option)
            self.format_buttons[fmt] = option
            layout.addWidget(option)
            if more:
                note = label(more[:1].upper() + more[1:].rstrip(")"))
                note.setIndent(option.iconSize().width() * 2)
                layout.addWidget(note)
        self.format_buttons[self.session.app.settings.backup_format].setChecked(True)
        self.back_up = button("Back &up", "Back up now", self._start)
        self.status = StatusLine()
        self.status.hide()
        row = QHBoxLayout()
        row.addWidget(self.back_up, 0, TOP_LEFT)
        row.addWidget(self.status, 1)
        layout.addLayout(row)
        for widget in (self.folder, self.file_name, self.password, self.again):
            widget.textChanged.connect(self._changed)
        return form

    # --- entering and choosing --------------------------------------------------------

    def enter(self) -> None:
        if not self.folder.text():
            configured = self.session.app.settings.backup_folder
            documents = QStandardPaths.writableLocation(
                QStandardPaths.StandardLocation.DocumentsLocation
            )
            self.folder.setText(str(configured or documents or Path.home()))
        if not self.file_name.text():
            self.file_name.setText(f"ePractitioner-{self.session.epoc}-{date.today():%Y-%m-%d}.p12")
        self._changed()

    def retry(self) -> None:
        self.errors.clear()
        if self._ready():
            self._start()

    def _changed(self) -> None:
        self.details.setVisible(self.yes.isChecked() and self.session.backup is None)
        policy = password_policy.check(self.password.text())
        for rule in policy.rules:
            self.checklist.set(rule.id, rule.label, Mood.OK if rule.ok else Mood.PROBLEM)
        same = self.password.text() == self.again.text() and bool(self.again.text())
        words = "The two passwords match" if same else "The two passwords match (not yet)"
        self.checklist.set(MATCH, words, Mood.OK if same else Mood.PROBLEM)
        self.back_up.setEnabled(self._ready())
        self.complete = self.no.isChecked() or self.session.backup is not None

    def _ready(self) -> bool:
        password = self.password.text()
        return (
            password_policy.check(password).ok
            and password == self.again.text()
            and bool(self.folder.text().strip() and self.file_name.text().strip())
            and not self.busy
            and self.replace_box is None
            and self.session.result is not None
        )

    def _choose_folder(self) -> None:
        self.folder_dialog = choose_folder(self, self.folder)

    # --- writing ----------------------------------------------------------------------

    def _start(self, overwrite: bool = False) -> None:
        result = self.session.result
        if result is None or self.busy:
            return
        fmt = next(f for f, b in self.format_buttons.items() if b.isChecked())
        folder = Path(self.folder.text().strip()).expanduser()
        secrets = SecretStr(self.password.text()), SecretStr(self.again.text())
        what = (result.identity, folder, self.file_name.text().strip(), *secrets, fmt)

        def work(report: Callable[[Any], None], cancel: threading.Event) -> BackupResult:
            return write_backup(*what, overwrite=overwrite, progress=report, cancel=cancel)

        self.status.set("Saving the backup…", Mood.WORKING)
        self.status.show()
        self.run(work, self._saved, self._progress, self._failed)
        self._changed()

    def _progress(self, stage: BackupStage) -> None:
        self.status.set(stage.value[:1].upper() + stage.value[1:] + "…", Mood.WORKING)

    def _saved(self, backup: BackupResult) -> None:
        self.session.backup = backup
        self.password.clear()
        self.again.clear()
        self.status.hide()
        self.saved.set(f"Backup saved and checked: {backup.path}", Mood.OK)
        self.saved.show()
        self._changed()

    def _failed(self, error: EcmtError) -> None:
        self.status.hide()
        self._changed()
        if error.code is ErrorCode.BACKUP_EXISTS:
            self._ask_to_replace()
        else:
            self.show_error(error)

    def _ask_to_replace(self) -> None:
        """Shown with show() and answered through `finished`: the event loop keeps running.
        Window-modal, so the form cannot change under the question."""
        name = self.file_name.text().strip()
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Replace the backup?")
        box.setText(f"A file called “{name}” is already in this folder. Replace it?")
        box.setInformativeText("Choose No to keep it, then type another file name.")
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(lambda _code: self._answered(box))
        self.replace_box = box
        self._changed()
        box.show()

    def _answered(self, box: QMessageBox) -> None:
        clicked = box.clickedButton()
        yes = QMessageBox.StandardButton.Yes
        replace = clicked is not None and box.standardButton(clicked) == yes
        self.replace_box = None
        box.deleteLater()
        self._changed()
        if replace:
            self._start(overwrite=True)
        else:
            self.file_name.setFocus()
