"""R-4 Your account: who is logged on, and every certificate that matters, in one view.

The user (and the helpdesk on the phone) should see at a glance what the service knows
(the account's certificates) and what this computer holds (expiry, days left, where it is
installed) before asking for a new one. States are written in words with a symbol.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from ...domain.errors import EcmtError
from ...domain.states import CertState
from ..dates import days_text, long_date
from ..widgets import Mood, StatusLine, button, label, scrolling, take_spare_height
from .base import PageId, StepPage

if TYPE_CHECKING:
    from ...services.status import CertificateStatus

ACCOUNT_STATES = {"valid": "Valid", "expired": "Expired", "revoked": "Revoked"}
ACCOUNT_MOODS = {"valid": Mood.OK, "expired": Mood.PROBLEM, "revoked": Mood.PROBLEM}
LOCAL_STATES = {
    CertState.VALID: "Valid",
    CertState.RENEWAL_DUE: "Renewal due: valid",
    CertState.EXPIRED: "Expired: was valid",
    CertState.NOT_YET_VALID: "Not valid yet: valid",
}
LOCAL_MOODS = {
    CertState.VALID: Mood.OK,
    CertState.RENEWAL_DUE: Mood.WARNING,
    CertState.EXPIRED: Mood.PROBLEM,
    CertState.NOT_YET_VALID: Mood.WAITING,
}


def day(moment: datetime) -> str:
    return long_date(moment)


def grouped(serial: str) -> str:
    """A long hex serial in groups of four, so it wraps between groups, never mid-group."""
    text = serial.upper()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def heading(text: str) -> QLabel:
    widget = label(text, bold=True)
    widget.setContentsMargins(0, widget.fontMetrics().height() // 2, 0, 0)
    return widget


class Lines(QWidget):
    """Facts as whole sentences, one a line, each with its symbol: they wrap at any text
    size, where table columns were cut off ("certific…nt/store")."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setAccessibleName(name)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.lines: list[StatusLine] = []

    def show_lines(self, rows: Sequence[tuple[str, Mood, str]]) -> None:
        """Each row: the sentence, its mood, a tooltip with the technical details."""
        for line in self.lines:
            self._layout.removeWidget(line)
            line.deleteLater()
        self.lines = []
        for text, mood, tip in rows:
            line = StatusLine(text, mood)
            line.setToolTip(tip)
            self._layout.addWidget(line)
            self.lines.append(line)


class OverviewPage(StepPage):
    page_id = PageId.OVERVIEW

    def build(self) -> None:
        self.facts: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for key in ("Name", "Organisation", "Role", "EPOC number"):
            self.facts[key] = label(name=key)
            form.addRow(f"{key}:", self.facts[key])
        self.account_certs = Lines("Certificates on your account")
        self.account_none = label("The service has no certificate for this account yet.")
        self.local_certs = Lines("Certificates on this computer")
        self.local_status = StatusLine()
        self.action = button(
            "&Request and download certificate", "Request and download certificate", self.go_next
        )
        area, content = scrolling("Your account")
        content.addLayout(form)
        for widget in (
            heading("Certificates on your account"),
            self.account_certs,
            self.account_none,
            heading("Certificates on this computer"),
            self.local_status,
            self.local_certs,
        ):
            content.addWidget(widget)
        content.addSpacing(self.fontMetrics().height() // 2)
        content.addWidget(self.action, 0, Qt.AlignmentFlag.AlignLeft)
        content.addStretch(1)
        self.body.addWidget(area, 1)
        take_spare_height(self.layout(), self.body)

    def enter(self) -> None:
        account = self.session.account
        self.complete = account is not None
        self.action.setEnabled(self.complete)
        if account is None or self.busy:
            return
        self.facts["Name"].setText(account.display_name)
        self.facts["Organisation"].setText(account.organisation)
        self.facts["Role"].setText(account.role)
        self.facts["EPOC number"].setText(account.epoc)
        rows = [
            (
                f"{ACCOUNT_STATES.get(c.status, c.status)}, until {day(c.not_after)}. "
                f"Serial number {grouped(c.serial)}",
                ACCOUNT_MOODS.get(c.status, Mood.WAITING),
                c.serial,
            )
            for c in sorted(account.certificates, key=lambda c: c.not_after, reverse=True)
        ]
        self.account_certs.show_lines(rows)
        self.account_certs.setVisible(bool(rows))
        self.account_none.setVisible(not rows)
        self.local_certs.hide()
        self.local_status.show()
        self.local_status.set("Looking at the certificates on this computer…", Mood.WORKING)
        status, epoc = self.session.app.status, account.epoc
        self.run(lambda _r, _c: status.certificates(epoc), self._listed, None, self._unreadable)

    def _listed(self, found: list[CertificateStatus]) -> None:
        where = self.session.app.store_name
        rows = [
            (
                f"{LOCAL_STATES[s.state]} until {day(s.not_after)} ({days_text(s.days_left)} "
                f"left), in {where}",
                LOCAL_MOODS[s.state],
                s.location,
            )
            for s in found
        ]
        self.local_certs.show_lines(rows)
        self.local_certs.setVisible(bool(rows))
        self.local_status.setVisible(not rows)
        self.local_status.set(
            "There is no certificate for this EPOC number on this computer yet.", Mood.WAITING
        )

    def _unreadable(self, error: EcmtError) -> None:
        """The request can still go ahead; its install step will name any store problem."""
        self.local_status.set("The certificates on this computer could not be read.", Mood.WARNING)
        self.show_error(error)

    def nextId(self) -> int:
        return int(PageId.TERMS if self.session.needs_terms() else PageId.REQUEST)
