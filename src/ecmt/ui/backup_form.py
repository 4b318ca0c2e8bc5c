"""The backup form, one widget for step R-7 and the overview's "Back up…" dialog.

Folder, file name and the password typed twice, with the rules ticking off live and
"Show the password"; the file format waits under "More options", because the default
(works everywhere) needs no decision. Saving runs off the GUI thread (services/backup.py
writes, then reads the file back with the password). An existing file is replaced only
after an explicit Yes. When something is missing, the form says what, beside the field.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

from pydantic import SecretStr
from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..config import EcmtSettings
from ..domain import password_policy
from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import BackupFormat, ClientIdentity
from ..services.backup import BackupResult, BackupStage, backup_path, write_backup
from . import tasks
from .widgets import (
    Checklist,
    ErrorPanel,
    Mood,
    PathLabel,
    StatusLine,
    button,
    choose_folder,
    label,
)

MATCH = "match"
FORMAT_WORDS = {
    BackupFormat.LEGACY: (
        "&Works on all Windows and Mac versions (recommended)",
        "Opens on every version of Windows and macOS.",
    ),
    BackupFormat.MODERN: (
        "Mode&rn",
        "Stronger encryption. Needs Windows 10 (version 1709) or newer, or a recent Mac.",
    ),
}
STAGE_WORDS = {
    BackupStage.CHECKING: "Checking the password…",
    BackupStage.BUILDING: "Building the backup…",
    BackupStage.WRITING: "Writing the file…",
    BackupStage.VERIFYING: "Opening the file again with your password to check it…",
}


def default_folder(settings: EcmtSettings) -> Path:
    """The deployment's folder when one is configured, else the user's Documents."""
    if settings.backup_folder is not None:
        return settings.backup_folder
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents) if documents else Path.home()


def default_file_name(epoc: str | None, today: date | None = None) -> str:
    return f"ePractitioner-{epoc or 'certificate'}-{(today or date.today()).isoformat()}.p12"


def _field(accessible: str, secret: bool = False) -> QLineEdit:
    widget = QLineEdit()
    widget.setAccessibleName(accessible)
    if secret:
        widget.setEchoMode(QLineEdit.EchoMode.Password)
    return widget


class BackupForm(QWidget):
    """Fill in, then `save(identity)`; `saved` carries the checked BackupResult."""

    saved = Signal(object)
    changed = Signal()

    def __init__(self, settings: EcmtSettings, epoc: str | None) -> None:
        super().__init__()
        self.setObjectName("backupForm")
        self.task: tasks.Task | None = None
        self.result: BackupResult | None = None
        self.replace_box: QMessageBox | None = None
        self.folder_dialog: QFileDialog | None = None
        self._identity: ClientIdentity | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.fields = QWidget()
        self._build_fields(QVBoxLayout(self.fields), settings, epoc)
        layout.addWidget(self.fields)
        self.progress = StatusLine()
        self.progress.hide()
        layout.addWidget(self.progress)
        self.errors = ErrorPanel()
        self.errors.retry.clicked.connect(self._retry)
        layout.addWidget(self.errors)
        self.done_line = StatusLine()
        self.done_line.setObjectName("backupSaved")
        self.saved_path = PathLabel(name="Backup file")
        self.done_note = label(
            "The file was opened again with your password and holds this certificate and "
            "its key. Keep the password somewhere safe, away from the file."
        )
        for widget in (self.done_line, self.saved_path, self.done_note):
            widget.hide()
            layout.addWidget(widget)
        self._update()

    def _build_fields(self, layout: QVBoxLayout, settings: EcmtSettings, epoc: str | None) -> None:
        """Each label above its field: nothing is cut off at large text sizes."""
        layout.setContentsMargins(0, 0, 0, 0)
        self.folder = _field("Folder for the backup")
        self.folder.setText(str(default_folder(settings)))
        self.choose = button("Choos&e…", "Choose the folder", self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.choose)
        self.file_name = _field("File name of the backup")
        self.file_name.setText(default_file_name(epoc))
        self.password = _field("Backup password", secret=True)
        self.again = _field("Backup password again", secret=True)
        for text, field, row in (
            ("Fo&lder:", self.folder, folder_row),
            ("File n&ame:", self.file_name, None),
            ("&Password:", self.password, None),
            ("Type the password a&gain:", self.again, None),
        ):
            caption = label(text)
            caption.setBuddy(field)
            layout.addWidget(caption)
            if row is not None:
                layout.addLayout(row)
            else:
                layout.addWidget(field)
        self.show_password = QCheckBox("Show &the password")
        self.show_password.setAccessibleName("Show the password")
        self.show_password.toggled.connect(self._reveal)
        layout.addWidget(self.show_password)
        rules = [(r.id, r.label) for r in password_policy.check("").rules]
        self.checklist = Checklist([*rules, (MATCH, "The two passwords match")], "Password rules")
        layout.addWidget(label("The password needs:"))
        layout.addWidget(self.checklist)
        self.missing_line = StatusLine()
        self.missing_line.setObjectName("backupMissing")
        self.missing_line.hide()
        layout.addWidget(self.missing_line)
        self.more = QToolButton()
        self.more.setText("&More options")
        self.more.setAccessibleName("More options: the file format")
        self.more.setCheckable(True)
        self.more.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.more.setArrowType(Qt.ArrowType.RightArrow)
        self.more.toggled.connect(self._show_more)
        layout.addWidget(self.more, 0, Qt.AlignmentFlag.AlignLeft)
        self.options = QWidget()
        options = QVBoxLayout(self.options)
        options.setContentsMargins(self.fontMetrics().height(), 0, 0, 0)
        options.addWidget(label("File format:"))
        self.formats = QButtonGroup(self)
        self.format_buttons: dict[BackupFormat, QRadioButton] = {}
        for fmt, (text, note) in FORMAT_WORDS.items():
            radio = QRadioButton(text)
            radio.setAccessibleName(f"Format: {text.replace('&', '')}")
            radio.setAccessibleDescription(note)
            self.formats.addButton(radio)
            self.format_buttons[fmt] = radio
            options.addWidget(radio)
            hint = label(note)
            hint.setIndent(radio.iconSize().width() * 2)
            options.addWidget(hint)
        self.format_buttons[settings.backup_format].setChecked(True)
        self.options.hide()
        layout.addWidget(self.options)
        for field in (self.folder, self.file_name, self.password, self.again):
            field.textChanged.connect(self._update)

    # --- state -----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.task is not None

    def chosen_format(self) -> BackupFormat:
        return next(f for f, b in self.format_buttons.items() if b.isChecked())

    def missing(self) -> list[tuple[str, QLineEdit]]:
        """What stops the backup now, in words, with the field to fix it in."""
        gaps: list[tuple[str, QLineEdit]] = []
        if not self.folder.text().strip():
            gaps.append(("a folder", self.folder))
        if not self.file_name.text().strip():
            gaps.append(("a file name", self.file_name))
        for rule in password_policy.check(self.password.text()).rules:
            if not rule.ok:
                gaps.append((rule.label[:1].lower() + rule.label[1:], self.password))
        if self.password.text() != self.again.text() or not self.again.text():
            gaps.append(("the same password typed again", self.again))
        return gaps

    def ready(self) -> bool:
        return (
            not self.missing()
            and not self.busy
            and self.replace_box is None
            and self.result is None
        )

    def _update(self) -> None:
        policy = password_policy.check(self.password.text())
        for rule in policy.rules:
            self._tick(rule.id, rule.label, rule.ok)
        same = bool(self.again.text()) and self.password.text() == self.again.text()
        self._tick(MATCH, "The two passwords match", same)
        if self.missing_line.isVisible() and not self.missing():
            self.missing_line.hide()
        self.changed.emit()

    def _tick(self, key: str, text: str, ok: bool) -> None:
        line = self.checklist.lines[key]
        line.set(text, Mood.OK if ok else Mood.WAITING)
        line.setAccessibleName(f"{'Met' if ok else 'Not met yet'}: {text}")

    def explain_missing(self) -> None:
        """Enter or Next with something missing: say what, and go to that field."""
        gaps = self.missing()
        if not gaps:
            return
        words = ", ".join(text for text, _field in gaps)
        self.missing_line.set(f"To make the backup, this is still needed: {words}.", Mood.WARNING)
        self.missing_line.show()
        gaps[0][1].setFocus()

    def _reveal(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.password.setEchoMode(mode)
        self.again.setEchoMode(mode)

    def _show_more(self, shown: bool) -> None:
        self.options.setVisible(shown)
        self.more.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def _choose_folder(self) -> None:
        self.folder_dialog = choose_folder(self, self.folder)

    # --- saving ----------------------------------------------------------------------

    def save(self, identity: ClientIdentity, overwrite: bool = False) -> bool:
        """Start writing; False (with the reason shown) when the form is not ready."""
        if not self.ready():
            self.explain_missing()
            return False
        self._identity = identity
        self.errors.clear()
        folder = Path(self.folder.text().strip()).expanduser()
        name = self.file_name.text().strip()
        secrets = SecretStr(self.password.text()), SecretStr(self.again.text())
        fmt = self.chosen_format()

        def work(report: Callable[[object], None], cancel: threading.Event) -> BackupResult:
            return write_backup(
                identity,
                folder,
                name,
                *secrets,
                fmt,
                overwrite=overwrite,
                progress=report,
                cancel=cancel,
            )

        self.progress.set("Saving the backup…", Mood.WORKING)
        self.progress.show()
        self.task = tasks.start(work, self._saved, self._failed, self._progress)
        self._set_editable(False)
        self.changed.emit()
        return True

    def cancel(self) -> None:
        if self.task is not None:  # never leave a half-written backup behind a closed window
            self.task.cancel.set()

    def _retry(self) -> None:
        if self._identity is not None:
            self.save(self._identity)

    def _progress(self, stage: object) -> None:
        if isinstance(stage, BackupStage):
            self.progress.set(STAGE_WORDS[stage], Mood.WORKING)

    def _saved(self, result: BackupResult) -> None:
        self.task = None
        self.result = result
        self.password.clear()
        self.again.clear()
        self.progress.hide()
        self.fields.hide()
        self.done_line.set("Backup saved and checked:", Mood.OK)
        self.saved_path.set_path(result.path)
        for widget in (self.done_line, self.saved_path, self.done_note):
            widget.show()
        self.changed.emit()
        self.saved.emit(result)

    def _failed(self, error: EcmtError) -> None:
        self.task = None
        self.progress.hide()
        self._set_editable(True)
        if error.code is ErrorCode.BACKUP_EXISTS:
            self._ask_to_replace()
        else:
            self.errors.show_error(error)
        self.changed.emit()

    def _set_editable(self, editable: bool) -> None:
        for widget in (self.folder, self.choose, self.file_name, self.password, self.again):
            widget.setEnabled(editable)
        for radio in self.format_buttons.values():
            radio.setEnabled(editable)

    def _ask_to_replace(self) -> None:
        """Shown with show() and answered through `finished`: the event loop keeps
        running. Window-modal, so the form cannot change under the question."""
        try:
            path = backup_path(Path(self.folder.text().strip()), self.file_name.text())
        except EcmtError as error:
            self.errors.show_error(error)
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Replace the file?")
        box.setText(f"There is already a file called “{path.name}” in this folder.")
        box.setInformativeText("Replace it with this backup? The old file will be gone.")
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText("&Replace")
        box.button(QMessageBox.StandardButton.No).setText("&Keep the old file")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(self._replace_answered)
        self.replace_box = box
        self.changed.emit()
        box.show()

    def _replace_answered(self, answer: int) -> None:
        if self.replace_box is not None:
            self.replace_box.deleteLater()
        self.replace_box = None
        self.changed.emit()
        if answer == QMessageBox.StandardButton.Yes.value and self._identity is not None:
            self.save(self._identity, overwrite=True)
        else:
            self.file_name.setFocus()
            self.file_name.selectAll()
