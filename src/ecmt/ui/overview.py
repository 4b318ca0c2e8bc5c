"""The overview window: the certificates of our profile on this computer, and what to do.

It opens when there is nothing to renew, and again after the wizard. The list comes from
`app.status.certificates()` on the thread pool; every state shows a symbol and words,
never colour alone. Renew opens the wizard; Back up and Details act on the selected row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..domain.errors import EcmtError
from ..domain.models import CertState, ClientIdentity
from ..services.backup import BackupResult
from . import tasks
from .backup_dialog import BackupDialog
from .dates import days_text, long_date
from .details import (
    STATE_WORDS,
    SYMBOLS,
    CertificateRow,
    DetailsDialog,
    fit_height,
    keep_fitted,
)
from .reminders import ReminderRow
from .session import WizardSession
from .update_panel import UpdateRow, WindowHost
from .widgets import (
    ErrorPanel,
    Mood,
    StatusLine,
    button,
    demo_letter,
    fit_to_screen,
    info_box,
    label,
)

COLUMNS = ("Status", "Name", "EPOC", "Expires", "Days left", "Installed in")
_MOOD_COLOUR = {
    Mood.OK: "#1b6e20",
    Mood.WARNING: "#8a5300",
    Mood.PROBLEM: "#b00020",
    Mood.WAITING: "#444444",
}


def summary(rows: list[CertificateRow]) -> tuple[str, Mood]:
    """One sentence about the newest certificate: is there anything to do?"""
    if not rows:
        return "There is no ePractitioner certificate on this computer yet.", Mood.WARNING
    newest = rows[0].status
    until = long_date(newest.not_after)
    left = days_text(newest.days_left)
    if newest.state is CertState.VALID:
        return f"Your certificate is valid until {until} ({left} left). Nothing to do now.", Mood.OK
    if newest.state is CertState.RENEWAL_DUE:
        return (
            f"Your certificate expires on {until} ({left} left). Renew it now: choose Renew.",
            Mood.WARNING,
        )
    if newest.state is CertState.EXPIRED:
        return (
            f"Your certificate expired on {until}. Choose Renew; you will need the PIN "
            "from your most recent PIN letter.",
            Mood.PROBLEM,
        )
    return (
        f"Your newest certificate only becomes valid on {long_date(newest.not_before)}. "
        "Check that this computer's date and time are right.",
        Mood.WARNING,
    )


def readable_name(name: x509.Name) -> str:
    """'CN=Dr A Morgan, serialNumber=8123456, O=Riverside Pharmacy': most specific first,
    with the EPOC's attribute named rather than given as 2.5.4.5."""
    names = {NameOID.SERIAL_NUMBER: "serialNumber"}
    return ", ".join(rdn.rfc4514_string(names) for rdn in reversed(name.rdns))


def load_rows(session: WizardSession) -> list[CertificateRow]:
    """Off the GUI thread: statuses, with the subject and issuer each one names."""
    app = session.app
    statuses = app.status.certificates()
    rows: list[CertificateRow] = []
    for status in statuses:
        stored = app.store.find(status.fingerprint)
        subject = readable_name(stored.certificate.subject) if stored else "-"
        issuer = readable_name(stored.certificate.issuer) if stored else "-"
        rows.append(CertificateRow(status, subject, issuer))
    return rows


class OverviewWindow(QMainWindow):
    def __init__(
        self,
        session: WizardSession,
        open_wizard: Callable[[], object],
        quit_app: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.open_wizard = open_wizard
        self.quit_app = quit_app
        self.rows: list[CertificateRow] = []
        self.loaded = False
        self.task: tasks.Task | None = None
        self._generation = 0
        self.details_dialog: DetailsDialog | None = None
        self.backup_dialog: BackupDialog | None = None
        self.message_box: QMessageBox | None = None
        self._backup_row: CertificateRow | None = None
        self.setWindowTitle("ePractitioner certificate")
        self.setObjectName("overviewWindow")

        central = QWidget()
        layout = QVBoxLayout(central)
        self.demo_letter: QFrame | None = None
        if session.demo_note:
            self.demo_letter = demo_letter(session.demo_note)
            layout.addWidget(self.demo_letter)
        heading = label("Your ePractitioner certificates", bold=True, name="Heading")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        heading.setFont(font)
        layout.addWidget(heading)
        self.summary = StatusLine("Looking for your certificates on this computer…", Mood.WORKING)
        self.summary.setObjectName("overviewSummary")
        layout.addWidget(self.summary)

        self.table = self._make_table()
        self.empty = label(self._empty_text(), name="No certificate yet")
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.empty.setContentsMargins(8, 8, 8, 8)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        layout.addWidget(self.stack, 1)

        self.errors = ErrorPanel()
        self.errors.retry.clicked.connect(self.refresh)
        layout.addWidget(self.errors)
        self.update_row = UpdateRow(
            WindowHost(
                session,
                lambda error: self.errors.show_error(error, "The new version was not installed."),
                lambda held: self.renew_button.setEnabled(not held),  # no renewal meanwhile
            )
        )
        layout.addWidget(self.update_row)

        row = QHBoxLayout()
        self.renew_button = button("&Renew…", "Renew the certificate", self.renew)
        self.backup_button = button(
            "&Back up…", "Back up the selected certificate", self.back_up_selected
        )
        self.details_button = button(
            "&Details…", "Details of the selected certificate", self.show_details
        )
        self.help_button = button("He&lp", "Help: helpdesk numbers", self.show_help)
        self.copy_button = button(
            "Copy &support details", "Copy support details", self.copy_support_details
        )
        self.check_button = button(
            "Check my &connection", "Check my connection", self.check_connection
        )
        self.connection_dialog: object | None = None
        self.reminder_row = ReminderRow(
            session,
            lambda words: self.statusBar().showMessage(words, 15_000),
            self._reminder_refused,
        )
        layout.addWidget(self.reminder_row)
        for widget in (self.renew_button, self.backup_button, self.details_button):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.check_button)
        row.addWidget(self.help_button)
        row.addWidget(self.copy_button)
        layout.addLayout(row)
        self.setCentralWidget(central)
        keep_fitted(
            heading,
            self.summary.text,
            self.empty,
            self.errors.title,
            self.errors.advice,
            self.errors.facts,
            *central.findChildren(QLabel, "demoLetterText"),
        )
        self._make_menus()
        self._update_buttons()
        fit_to_screen(self, QSize(820, 520 if self.demo_letter is None else 640))
        self.refresh()

    # --- building --------------------------------------------------------------------

    def _make_table(self) -> QTableWidget:
        table = QTableWidget(0, len(COLUMNS))
        table.setObjectName("certificateTable")
        table.setAccessibleName("Certificates on this computer")
        table.setHorizontalHeaderLabels(list(COLUMNS))
        table.verticalHeader().hide()
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setTabKeyNavigation(False)  # Tab moves on to the buttons
        table.setCornerButtonEnabled(False)  # "select all" means nothing here
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = table.horizontalHeader()
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        table.itemSelectionChanged.connect(self._update_buttons)
        table.itemActivated.connect(self._activated)
        return table

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.refresh_action = self._action("&Refresh the list", self.refresh, "F5")
        self.quit_action = self._action("&Quit", self._quit, QKeySequence.StandardKey.Quit)
        file_menu.addAction(self.refresh_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        help_menu = bar.addMenu("&Help")
        self.helpdesk_action = self._action(
            "&Helpdesk numbers", self.show_help, QKeySequence.StandardKey.HelpContents
        )
        self.copy_action = self._action("&Copy support details", self.copy_support_details)
        self.check_action = self._action("Check my c&onnection", self.check_connection)
        self.about_action = self._action("&About", self.show_about)
        for action in (
            self.helpdesk_action,
            self.copy_action,
            self.check_action,
            self.about_action,
        ):
            help_menu.addAction(action)

    def _action(
        self,
        text: str,
        slot: Callable[[], None],
        shortcut: str | QKeySequence.StandardKey | None = None,
    ) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        return action

    def _empty_text(self) -> str:
        helpdesks = self.session.app.settings.helpdesks
        call = (
            f"call the {helpdesks[0].name} on {helpdesks[0].phone}"
            if helpdesks
            else "call your helpdesk"
        )
        return (
            "To get one, choose Renew. You will need your EPOC number and the PIN from "
            f"your most recent PIN letter. If you have no PIN letter, {call}.\n\n"
            "If you expected a certificate here, it may be in another certificate store: "
            "Copy support details shows which store this computer uses."
        )

    def _say(self, text: str, mood: Mood) -> None:
        self.summary.set(text, mood)
        fit_height(self.summary.text)

    # --- loading ---------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the store again, off the GUI thread; a later refresh wins over an earlier."""
        self.reminder_row.look_up()
        self.update_row.check()
        self._generation += 1
        generation = self._generation
        session = self.session
        self.errors.clear()
        self._say("Looking for your certificates on this computer…", Mood.WORKING)
        self.refresh_action.setEnabled(False)

        def work(_report: Callable[[Any], None], _cancel: threading.Event) -> object:
            try:
                return generation, load_rows(session)
            except EcmtError as error:  # with its generation, so a stale failure is ignored
                return generation, error

        self.task = tasks.start(work, self._loaded, self._load_failed)

    def _loaded(self, result: tuple[int, list[CertificateRow] | EcmtError]) -> None:
        generation, rows = result
        if generation != self._generation:
            return
        if isinstance(rows, EcmtError):
            self._load_failed(rows)
            return
        self.task = None
        self.loaded = True
        self.refresh_action.setEnabled(True)
        selected = self.selected()
        self.rows = rows
        self._fill(selected.status.fingerprint if selected else None)
        text, mood = summary(rows)
        self._say(text, mood)
        self.stack.setCurrentWidget(self.table if rows else self.empty)
        self._update_buttons()

    def _load_failed(self, error: EcmtError) -> None:
        self.task = None
        self.loaded = True
        self.refresh_action.setEnabled(True)
        self.session.last_error = error
        self._say("The certificates on this computer could not be read.", Mood.PROBLEM)
        self.errors.show_error(error)
        self._update_buttons()

    def _fill(self, keep: str | None) -> None:
        self.table.setRowCount(len(self.rows))
        select = 0
        for index, row in enumerate(self.rows):
            status = row.status
            mood, words = STATE_WORDS[status.state]
            cells = (
                f"{SYMBOLS[mood]} {words}",
                status.name,
                status.epoc or "-",
                long_date(status.not_after),
                str(status.days_left),
                status.where or self.session.app.store_name,  # each browser that has it
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(status.location if column == len(cells) - 1 else text)
                if column == 0:
                    item.setForeground(QColor(_MOOD_COLOUR[mood]))
                    item.setData(Qt.ItemDataRole.AccessibleTextRole, words)
                if column == 4:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(index, column, item)
            if status.fingerprint == keep:
                select = index
        if self.rows:
            self.table.selectRow(select)

    # --- the selected certificate ----------------------------------------------------

    def selected(self) -> CertificateRow | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.rows):
            return None
        return self.rows[rows[0].row()]

    def _update_buttons(self) -> None:
        row = self.selected()
        self.details_button.setEnabled(row is not None)
        can_back_up = row is not None and row.status.has_private_key
        self.backup_button.setEnabled(can_back_up)
        if row is not None and not row.status.has_private_key:
            self.backup_button.setToolTip(
                "This certificate's private key is not on this computer, so it cannot be "
                "backed up here."
            )
        else:
            self.backup_button.setToolTip("Save the selected certificate and its key to a file")

    def _activated(self, _item: QTableWidgetItem) -> None:
        self.show_details()

    # --- actions ---------------------------------------------------------------------

    def renew(self) -> None:
        """A new walk, or the open one brought to the front (the desktop decides)."""
        self.open_wizard()

    def turn_reminders_on(self) -> None:
        """After a renewal with "Remind me before it expires" ticked on the Done page."""
        self.reminder_row.turn_on()

    def _reminder_refused(self, error: EcmtError) -> None:
        self.session.last_error = error
        self.errors.show_error(error, "The reminder could not be set up.", can_retry=False)

    def set_demo_note(self, note: str) -> None:
        if self.demo_letter is not None:
            for text in self.demo_letter.findChildren(QLabel, "demoLetterText"):
                text.setText(note)

    def show_details(self) -> None:
        row = self.selected()
        if row is None:
            return
        if self.details_dialog is not None:
            self.details_dialog.close()
        self.details_dialog = DetailsDialog(row, self, self.session.app.store_name)
        self.details_dialog.show()

    def back_up_selected(self) -> None:
        row = self.selected()
        if row is None or not row.status.has_private_key:
            return
        self.backup_button.setEnabled(False)
        self.statusBar().showMessage("Reading the certificate and its key…")
        store = self.session.app.store
        fingerprint = row.status.fingerprint
        self._backup_row = row

        def work(_report: Callable[[Any], None], _cancel: threading.Event) -> ClientIdentity:
            return store.load_identity(fingerprint)

        tasks.start(work, self._identity_loaded, self._identity_failed)

    def _identity_loaded(self, identity: ClientIdentity) -> None:
        self.statusBar().clearMessage()
        self._update_buttons()
        row = self._backup_row
        if row is None:
            return
        if self.backup_dialog is not None:
            self.backup_dialog.close()
        self.backup_dialog = BackupDialog(
            identity,
            row.status,
            self.session.app.settings,
            self,
            on_saved=self._backed_up,
        )
        self.backup_dialog.show()

    def _identity_failed(self, error: EcmtError) -> None:
        self.statusBar().clearMessage()
        self._update_buttons()
        self.session.last_error = error
        self.errors.show_error(error, "The certificate could not be backed up.", can_retry=False)

    def _backed_up(self, result: BackupResult) -> None:
        self.session.backup = result
        self.statusBar().showMessage(f"Backup saved to {result.path}", 15_000)

    def show_help(self) -> None:
        from .wizard import helpdesk_text

        self._message(
            "Help",
            "If you need help, call:",
            helpdesk_text(self.session),
            detail=self.session.support_details(),
        )

    def check_connection(self) -> None:
        """Check my connection: the findings in a dialog, the checks off the GUI thread."""
        from .connection_check import ConnectionCheckDialog

        session = self.session
        dialog = ConnectionCheckDialog(lambda: session.app, self)
        self.connection_dialog = dialog
        dialog.show()

    def show_about(self) -> None:
        self._message(
            "About",
            f"ePractitioner certificate, version {__version__}",
            "Renews the NHS Scotland ePractitioner client certificate and keeps a backup "
            f"of it.\n\nCertificate store: {self.session.app.store.description}\n"
            f"Service: {self.session.app.settings.server_url}",
        )

    def copy_support_details(self) -> None:
        QGuiApplication.clipboard().setText(self.session.support_details())
        self.statusBar().showMessage(
            "Support details copied. Paste them into an email to the helpdesk, or read them "
            "out on the phone.",
            15_000,
        )

    def _message(self, title: str, text: str, informative: str, detail: str = "") -> None:
        self.message_box = info_box(self, title, text, informative, detail)

    def _quit(self) -> None:
        if self.quit_app is not None:
            self.quit_app()
        else:
            self.close()
            QApplication.closeAllWindows()
