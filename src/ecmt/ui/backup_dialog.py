"""The overview window's backup dialog: the same form and the same verified backup as
step R-7 (ui/backup_form.py), in a window of its own."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QHBoxLayout, QVBoxLayout, QWidget

from ..config import EcmtSettings
from ..domain.models import ClientIdentity
from ..services.backup import BackupResult
from ..services.status import CertificateStatus
from .backup_form import BackupForm
from .details import keep_fitted
from .widgets import button, label


class BackupDialog(QDialog):
    """The backup form, with Save and Cancel (Close once the backup is saved)."""

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
        layout = QVBoxLayout(self)
        self.intro = label(
            f"Save a copy of the certificate for {status.name} (EPOC {status.epoc or '-'}) "
            "and its private key in a file protected by a password. Keep the file and the "
            "password safe: you need both to move the certificate to another computer.",
            name="About the backup",
        )
        layout.addWidget(self.intro)
        self.form = BackupForm(settings, status.epoc)
        self.form.changed.connect(self._changed)
        self.form.saved.connect(self._saved)
        layout.addWidget(self.form)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = button("&Save backup", "Save backup", self.start)
        self.save_button.setDefault(True)
        self.close_button = button("Cancel", "Cancel the backup", self.reject)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        keep_fitted(self.intro, self.form.done_note)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("M" * 48))
        self._changed()

    @property
    def result_(self) -> BackupResult | None:
        return self.form.result

    def _changed(self) -> None:
        self.save_button.setEnabled(not self.form.busy and self.form.result is None)

    def start(self) -> None:
        """Save (Enter or the button): says what is missing instead of doing nothing."""
        self.form.save(self._identity)

    def _saved(self, result: BackupResult) -> None:
        self.intro.hide()
        self.save_button.hide()
        self.close_button.setText("C&lose")
        self.close_button.setAccessibleName("Close")
        self.close_button.setDefault(True)
        self.close_button.setFocus()
        self.adjustSize()
        if self._on_saved is not None:
            self._on_saved(result)

    def done(self, result: int) -> None:
        self.form.cancel()
        super().done(result)
