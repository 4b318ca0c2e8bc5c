"""R-4 Your account: who is logged on, and every certificate that matters, in one view.

The user (and the helpdesk on the phone) should see at a glance what the service knows
(the account's certificates) and what this computer holds (expiry, days left, where it is
installed) before asking for a new one. States are written in words with a symbol.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
)

from ...domain.errors import EcmtError
from ...domain.models import CertState
from ...services.status import CertificateStatus
from ..dates import long_date
from ..session import WizardSession
from ..widgets import Mood, StatusLine, button, label, scrolling, take_spare_height
from .base import PageId, StepPage

ACCOUNT_STATES = {"valid": "✔ Valid", "expired": "✖ Expired", "revoked": "✖ Revoked"}
LOCAL_STATES = {
    CertState.VALID: "✔ Valid",
    CertState.RENEWAL_DUE: "! Renewal due",
    CertState.EXPIRED: "✖ Expired",
    CertState.NOT_YET_VALID: "○ Not valid yet",
}


def day(moment: datetime) -> str:
    return long_date(moment)


def table(name: str, headers: Sequence[str], wide: int) -> QTableWidget:
    """Read-only facts in whole rows. Columns fit their text, except `wide` (a serial number
    or a path), which takes the rest of the width and is elided if need be (with a tooltip)."""
    widget = QTableWidget(0, len(headers))
    widget.setAccessibleName(name)
    widget.setHorizontalHeaderLabels(list(headers))
    widget.verticalHeader().hide()
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    widget.setTabKeyNavigation(False)  # Tab leaves the table, arrows move inside it
    widget.setWordWrap(False)  # one line a row, long values elided in the middle
    widget.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    header = widget.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(wide, QHeaderView.ResizeMode.Stretch)
    widget.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return widget


def fill(widget: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    widget.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            widget.setItem(r, c, item)
    widget.resizeRowsToContents()  # the table as tall as its rows: the page scrolls, not it
    lines = sum(widget.rowHeight(r) for r in range(len(rows)))
    height = widget.horizontalHeader().sizeHint().height() + lines + 2 * widget.frameWidth()
    widget.setFixedHeight(min(height, 12 * widget.fontMetrics().height()))


def heading(text: str) -> QLabel:
    widget = label(text, bold=True)
    widget.setContentsMargins(0, widget.fontMetrics().height() // 2, 0, 0)
    return widget


class OverviewPage(StepPage):
    page_id = PageId.OVERVIEW

    def __init__(self, session: WizardSession) -> None:
        super().__init__(session)
        self.facts: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for key in ("Name", "Organisation", "Role", "EPOC number"):
            self.facts[key] = label(name=key)
            form.addRow(f"{key}:", self.facts[key])
        self.account_certs = table(
            "Certificates on your account", ("Serial number", "Valid until", "Status"), 0
        )
        self.account_none = label("The service has no certificate for this account yet.")
        self.local_certs = table(
            "Certificates on this computer",
            ("Valid until", "Days left", "State", "Where installed"),
            3,
        )
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
            (c.serial, day(c.not_after), ACCOUNT_STATES.get(c.status, c.status))
            for c in sorted(account.certificates, key=lambda c: c.not_after, reverse=True)
        ]
        fill(self.account_certs, rows)
        self.account_certs.setVisible(bool(rows))
        self.account_none.setVisible(not rows)
        self.local_certs.hide()
        self.local_status.show()
        self.local_status.set("Looking at the certificates on this computer…", Mood.WORKING)
        status, epoc = self.session.app.status, account.epoc
        self.run(lambda _r, _c: status.certificates(epoc), self._listed, None, self._unreadable)

    def _listed(self, found: list[CertificateStatus]) -> None:
        rows = [
            (day(s.not_after), str(s.days_left), LOCAL_STATES[s.state], s.location) for s in found
        ]
        fill(self.local_certs, rows)
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
