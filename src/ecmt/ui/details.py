"""How a certificate is described to people: state in words, dates, the details dialog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ..domain.models import CertState
from ..services.status import CertificateStatus
from .dates import days_text, long_date
from .widgets import Mood, button, label

STATE_WORDS: dict[CertState, tuple[Mood, str]] = {
    CertState.VALID: (Mood.OK, "Valid"),
    CertState.RENEWAL_DUE: (Mood.WARNING, "Renewal due"),
    CertState.EXPIRED: (Mood.PROBLEM, "Expired"),
    CertState.NOT_YET_VALID: (Mood.WAITING, "Not yet valid"),
}


SYMBOLS = {Mood.OK: "✔", Mood.WARNING: "!", Mood.PROBLEM: "✖", Mood.WAITING: "○"}


def state_sentence(status: CertificateStatus) -> str:
    """'Valid, 364 days left' / 'Expired on 3 March 2027' / …"""
    _mood, words = STATE_WORDS[status.state]
    if status.state is CertState.EXPIRED:
        return f"Expired on {long_date(status.not_after)}"
    if status.state is CertState.NOT_YET_VALID:
        return f"Not yet valid: valid from {long_date(status.not_before)}"
    return f"{words}: {days_text(status.days_left)} left"


def fit_height(widget: QLabel) -> None:
    """Give a word-wrapped label the height its text needs at its width.

    QMainWindow and QDialog do not pass height-for-width down, so without this a label
    whose text grows after layout keeps one line's height and clips the rest (at 200%
    font size, nearly always).
    """
    needed = widget.heightForWidth(max(widget.width(), 1))
    if needed > 0 and widget.minimumHeight() != needed:
        widget.setMinimumHeight(needed)


class _FitHeightFilter(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and isinstance(watched, QLabel):
            fit_height(watched)
        return False


_FILTER: _FitHeightFilter | None = None


def keep_fitted(*labels: QLabel) -> None:
    """Re-fit these labels whenever they are resized (see `fit_height`)."""
    global _FILTER
    if _FILTER is None:
        _FILTER = _FitHeightFilter()
    for widget in labels:
        widget.installEventFilter(_FILTER)


def date_and_time(moment: datetime) -> str:
    local = moment.astimezone()
    return f"{long_date(local)}, {local:%H:%M} ({local.tzname() or 'local time'})"


def grouped_fingerprint(fingerprint: str) -> str:
    """SHA-256 hex as the helpdesk reads it: AB:CD:… in two lines of 16 pairs."""
    pairs = [fingerprint[i : i + 2].upper() for i in range(0, len(fingerprint), 2)]
    return "\n".join(":".join(pairs[i : i + 16]) for i in range(0, len(pairs), 16))


def installed_in(status: CertificateStatus, store_name: str = "") -> str:
    """One line for each store that holds it: in plain words, then the exact place."""
    if status.places:
        return "\n".join(f"{p.where} ({p.location})" for p in status.places)
    return f"{store_name} ({status.location})" if store_name else status.location


@dataclass(frozen=True)
class CertificateRow:
    """What the overview knows of one certificate: its status and its names."""

    status: CertificateStatus
    subject: str
    issuer: str


# --- details -----------------------------------------------------------------------------


class DetailsDialog(QDialog):
    """Subject, issuer, serial, fingerprint, validity, key, location; "Copy details"."""

    def __init__(
        self, row: CertificateRow, parent: QWidget | None = None, store_name: str = ""
    ) -> None:
        super().__init__(parent)
        status = row.status
        self.setWindowTitle(f"Certificate details: {status.name}")
        self.setObjectName("detailsDialog")
        mood, _words = STATE_WORDS[status.state]
        key = (
            "Yes, the private key is on this computer"
            if status.has_private_key
            else "No: the certificate is here, but its private key is not"
        )
        self.facts: list[tuple[str, str]] = [
            ("Name", status.name),
            ("EPOC number", status.epoc or "-"),
            ("Status", f"{SYMBOLS[mood]} {state_sentence(status)}"),
            ("Subject", row.subject),
            ("Issuer", row.issuer),
            ("Serial number", status.serial.upper()),
            ("Fingerprint (SHA-256)", grouped_fingerprint(status.fingerprint)),
            ("Valid from", date_and_time(status.not_before)),
            ("Valid until", date_and_time(status.not_after)),
            ("Private key present", key),
            ("Installed in", installed_in(status, store_name)),
        ]
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.values: dict[str, QLabel] = {}
        for name, value in self.facts:
            shown = label(value, name=name)
            shown.setTextInteractionFlags(
                Qt.TextInteractionFlag.TextSelectableByMouse
                | Qt.TextInteractionFlag.TextSelectableByKeyboard
            )
            if name.startswith("Fingerprint") or name == "Serial number":
                shown.setStyleSheet("font-family: monospace;")
            caption = label(f"{name}:", wrap=False)
            caption.setBuddy(shown)
            form.addRow(caption, shown)
            self.values[name] = shown
        layout.addLayout(form)
        row_layout = QHBoxLayout()
        self.copy_button = button("&Copy details", "Copy certificate details", self.copy)
        self.close_button = button("C&lose", "Close certificate details", self.reject)
        self.close_button.setDefault(True)
        row_layout.addWidget(self.copy_button)
        row_layout.addStretch(1)
        row_layout.addWidget(self.close_button)
        layout.addLayout(row_layout)
        self.setMinimumWidth(520)

    def text(self) -> str:
        return "\n".join(f"{name}: {' '.join(value.split())}" for name, value in self.facts)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())


# --- backup ------------------------------------------------------------------------------
