"""The overview window's backup dialog: the same verified backup as step R-7."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import SecretStr
from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ..config import EcmtSettings
from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import BackupFormat, ClientIdentity
from ..domain.password_policy import check
from ..services.backup import BackupResult, BackupStage, backup_path, write_backup
from ..services.status import CertificateStatus
from . import tasks
from .details import keep_fitted
from .widgets import ErrorPanel, Mood, StatusLine, button, choose_folder, label


class PasswordChecklist(QWidget):
    """The password rules, each ticked off live, plus "the two passwords match"."""

    MATCH = "The two passwords match"

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName("Password rules")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.lines: dict[str, StatusLine] = {}
        for rule in check("").rules:
            self.lines[rule.id] = StatusLine()
            layout.addWidget(self.lines[rule.id])
        self.lines["match"] = StatusLine()
        layout.addWidget(self.lines["match"])
        self.update_for("", "")

    def update_for(self, password: str, confirmation: str) -> bool:
        """Tick the rules; True when every rule is met and the two entries match."""
        result = check(password)
        for rule in result.rules:
            self._tick(rule.id, rule.label, rule.ok)
        same = bool(password) and password == confirmation
        self._tick("match", self.MATCH, same)
        return result.ok and same

    def met(self) -> dict[str, bool]:
        return {rule_id: line.mood is Mood.OK for rule_id, line in self.lines.items()}

    def _tick(self, rule_id: str, text: str, ok: bool) -> None:
        line = self.lines[rule_id]
        line.set(text, Mood.OK if ok else Mood.WAITING)
        line.setAccessibleName(f"{'Met' if ok else 'Not met yet'}: {text}")


def default_backup_folder(settings: EcmtSettings) -> tuple[Path, bool]:
    """The Board's advised folder when configured (True), else the user's documents."""
    if settings.backup_folder is not None:
        return settings.backup_folder, True
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents or Path.home()), False


def default_file_name(status: CertificateStatus, today: date | None = None) -> str:
    day = today or datetime.now(UTC).astimezone().date()
    return f"ePractitioner-{status.epoc or 'certificate'}-{day.isoformat()}.p12"


_STAGE_WORDS = {
    BackupStage.CHECKING: "Checking the password…",
    BackupStage.BUILDING: "Building the backup…",
    BackupStage.WRITING: "Writing the file…",
    BackupStage.VERIFYING: "Opening the file again with your password to check it…",
}


class BackupDialog(QDialog):
    """Folder, file name, password twice with the live checklist, format; then Save."""

    def __init__(
        self,
        identity: ClientIdentity,
        status: CertificateStatus,
        settings: EcmtSettings,
        parent: QWidget | None = None,
        on_saved: Callable[[BackupResult], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Back up your certificate")
        self.setObjectName("backupDialog")
        self._identity = identity
        self._on_saved = on_saved
        self.result_: BackupResult | None = None
        self.task: tasks.Task | None = None
        self.replace_box: QMessageBox | None = None
        self.folder_dialog: QFileDialog | None = None

        layout = QVBoxLayout(self)
        self.intro = label(
            f"Save a copy of the certificate for {status.name} (EPOC {status.epoc or '-'}) "
            "and its private key in a file protected by a password. Keep the file and the "
            "password safe: you need both to move the certificate to another computer.",
            name="About the backup",
        )
        layout.addWidget(self.intro)

        self.form_area = QWidget()
        form = QFormLayout(self.form_area)
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        folder, advised = default_backup_folder(settings)
        self.folder = QLineEdit(str(folder))
        self.folder.setObjectName("backupFolder")
        self.folder.setAccessibleName("Folder")
        self.browse = button("&Choose…", "Choose the folder", self.choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse)
        folder_label = label("&Folder:", wrap=False)
        folder_label.setBuddy(self.folder)
        form.addRow(folder_label, folder_row)
        if advised:
            advice = label("This is the folder your Board advised.", wrap=False, name="Advice")
            form.addRow("", advice)

        self.file_name = QLineEdit(default_file_name(status))
        self.file_name.setObjectName("backupFileName")
        self.file_name.setAccessibleName("File name")
        self._add_row(form, "File &name:", self.file_name)

        self.password = QLineEdit()
        self.password.setObjectName("backupPassword")
        self.password.setAccessibleName("Backup password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self._add_row(form, "&Password:", self.password)

        self.confirmation = QLineEdit()
        self.confirmation.setObjectName("backupPasswordAgain")
        self.confirmation.setAccessibleName("Backup password again")
        self.confirmation.setEchoMode(QLineEdit.EchoMode.Password)
        self._add_row(form, "P&assword again:", self.confirmation)

        self.show_password = QCheckBox("S&how the password")
        self.show_password.setAccessibleName("Show the password")
        self.show_password.toggled.connect(self._show_password)
        form.addRow("", self.show_password)

        self.checklist = PasswordChecklist()
        form.addRow(label("The password needs:", wrap=False), self.checklist)

        self.formats = QButtonGroup(self)
        format_box = QVBoxLayout()
        self.format_buttons: dict[BackupFormat, QRadioButton] = {}
        for fmt, text in (
            (BackupFormat.LEGACY, "&Works on all Windows and Mac versions"),
            (BackupFormat.MODERN, "&Modern: stronger, needs Windows 10 or a recent Mac"),
        ):
            radio = QRadioButton(text)
            radio.setAccessibleName(fmt.plain_words)
            radio.setChecked(fmt is settings.backup_format)
            self.formats.addButton(radio)
            self.format_buttons[fmt] = radio
            format_box.addWidget(radio)
        form.addRow(label("File format:", wrap=False), format_box)
        layout.addWidget(self.form_area)

        self.progress = StatusLine()
        self.progress.hide()
        layout.addWidget(self.progress)
        self.saved_panel = QWidget()
        self.saved_panel.setObjectName("backupSaved")
        saved = QFormLayout(self.saved_panel)
        saved.setContentsMargins(0, 0, 0, 0)
        saved.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.saved_values: dict[str, QLabel] = {}
        for name in ("Folder", "File", "Format"):
            value = label(name=f"Saved backup {name.lower()}")
            caption = label(f"{name}:", wrap=False)
            saved.addRow(caption, value)
            self.saved_values[name] = value
        self.saved_advice = label(
            "The file was opened again with your password, and it holds this certificate "
            "and its key. Keep the password somewhere safe, away from the file.",
            name="About the saved backup",
        )
        saved.addRow(self.saved_advice)
        self.saved_panel.hide()
        layout.addWidget(self.saved_panel)
        keep_fitted(self.intro, self.progress.text, self.saved_advice, *self.saved_values.values())
        self.errors = ErrorPanel()
        self.errors.retry.clicked.connect(self.start)
        layout.addWidget(self.errors)
        layout.addStretch(1)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = button("&Save backup", "Save backup", self.start)
        self.save_button.setDefault(True)
        self.close_button = button("Cancel", "Cancel the backup", self.reject)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        for field in (self.folder, self.file_name, self.password, self.confirmation):
            field.textChanged.connect(self._changed)
        self._changed()
        self.setMinimumWidth(560)

    @staticmethod
    def _add_row(form: QFormLayout, text: str, field: QWidget) -> None:
        caption = label(text, wrap=False)
        caption.setBuddy(field)
        form.addRow(caption, field)

    # --- state ---------------------------------------------------------------------------

    def ready(self) -> bool:
        ticked = self.checklist.update_for(self.password.text(), self.confirmation.text())
        named = bool(self.folder.text().strip() and self.file_name.text().strip())
        asking = self.replace_box is not None  # "Replace the file?" is waiting for an answer
        return ticked and named and self.task is None and self.result_ is None and not asking

    def _changed(self) -> None:
        self.save_button.setEnabled(self.ready())

    def _show_password(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.password.setEchoMode(mode)
        self.confirmation.setEchoMode(mode)

    def chosen_format(self) -> BackupFormat:
        for fmt, radio in self.format_buttons.items():
            if radio.isChecked():
                return fmt
        return BackupFormat.LEGACY

    def choose_folder(self) -> None:
        self.folder_dialog = choose_folder(self, self.folder)

    # --- saving --------------------------------------------------------------------------

    def start(self) -> None:
        """The Save button: write the backup, asking before any file is replaced."""
        self.save(overwrite=False)

    def save(self, *, overwrite: bool) -> None:
        if not self.ready():
            return
        self.errors.clear()
        folder = Path(self.folder.text().strip()).expanduser()
        name = self.file_name.text()
        password = SecretStr(self.password.text())
        confirmation = SecretStr(self.confirmation.text())
        fmt = self.chosen_format()
        identity = self._identity

        def work(report: Callable[[object], None], cancel: threading.Event) -> BackupResult:
            return write_backup(
                identity,
                folder,
                name,
                password,
                confirmation,
                fmt,
                overwrite=overwrite,
                progress=report,
                cancel=cancel,
            )

        self._set_busy(True)
        self.progress.set("Saving the backup…", Mood.WORKING)
        self.progress.show()
        self.task = tasks.start(work, self._saved, self._failed, self._progress)

    def _progress(self, stage: object) -> None:
        if isinstance(stage, BackupStage):
            self.progress.set(_STAGE_WORDS[stage], Mood.WORKING)

    def _saved(self, result: BackupResult) -> None:
        self.task = None
        self.result_ = result
        for field in (self.password, self.confirmation):
            field.clear()
        self._set_busy(False)
        self.intro.hide()
        self.form_area.hide()
        self.progress.set("Backup saved and checked.", Mood.OK)
        self.saved_values["Folder"].setText(str(result.path.parent))
        self.saved_values["File"].setText(result.path.name)
        self.saved_values["Format"].setText(result.format.plain_words)
        self.saved_panel.show()
        self.save_button.hide()
        self.close_button.setText("C&lose")
        self.close_button.setAccessibleName("Close")
        self.close_button.setDefault(True)
        self.close_button.setFocus()
        self.adjustSize()
        if self._on_saved is not None:
            self._on_saved(result)

    def _failed(self, error: EcmtError) -> None:
        self.task = None
        self._set_busy(False)
        self.progress.hide()
        if error.code is ErrorCode.BACKUP_EXISTS:
            self._ask_to_replace()
            return
        self.errors.show_error(error)

    def _ask_to_replace(self) -> None:
        try:
            path = backup_path(Path(self.folder.text().strip()), self.file_name.text())
        except EcmtError as error:  # the name changed meanwhile
            self.errors.show_error(error)
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Replace the file?")
        box.setText(f"There is already a file called {path.name} in this folder.")
        box.setInformativeText("Replace it with this backup? The old file will be gone.")
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText("&Replace")
        box.button(QMessageBox.StandardButton.No).setText("&Keep the old file")
        box.setWindowModality(Qt.WindowModality.WindowModal)  # the form waits for the answer
        box.finished.connect(self._replace_answered)
        self.replace_box = box
        self._changed()
        box.show()

    def _replace_answered(self, answer: int) -> None:
        if self.replace_box is not None:
            self.replace_box.deleteLater()
        self.replace_box = None
        self._changed()
        if answer == QMessageBox.StandardButton.Yes.value:
            self.save(overwrite=True)
        else:
            self.file_name.setFocus()
            self.file_name.selectAll()

    def _set_busy(self, busy: bool) -> None:
        for widget in (
            self.folder,
            self.browse,
            self.file_name,
            self.password,
            self.confirmation,
            *self.format_buttons.values(),
        ):
            widget.setEnabled(not busy and self.result_ is None)
        self._changed()

    def done(self, result: int) -> None:
        if self.task is not None:  # never leave a half-written backup behind a closed window
            self.task.cancel.set()
        super().done(result)
