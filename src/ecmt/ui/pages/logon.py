"""R-3 Log on: EPOC number filled in for the user, a PIN or the current certificate.

The old tool told users to phone the helpdesk when the EPOC was not filled in. Here it
comes from the installed certificate, else the last successful logon, else the deployment.
While the current certificate is valid, no PIN is needed at all. Each refusal has its own
words; the PIN never reaches a log, the session's last error, or the field after success.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit

from ccms_protocol.files import write_atomic

from ...domain.errors import EcmtError, ErrorCode
from ..widgets import Mood, StatusLine, button, label, scrolling, take_spare_height
from .base import PageId, StepPage

if TYPE_CHECKING:  # loaded on first use, after the window is on screen
    from pydantic import SecretStr

    from ccms_protocol.wire import AccountInfo, TermsDocument

    from ...app import App
    from ...domain.models import ClientIdentity, PinCredentials

log = logging.getLogger(__name__)

LAST_LOGON = "last-logon.json"
PIN_HINT = "Use the PIN from your most recent PIN letter"
RENEW_NOTE = (
    "Your certificate on this computer is still valid, so you can renew with it instead of a PIN."
)
# Refusals of the PIN (the field is cleared) and others where the same try cannot help.
PIN_REFUSALS = {ErrorCode.AUTH_INVALID, ErrorCode.PIN_SUPERSEDED, ErrorCode.PIN_EXPIRED}
PIN_REFUSALS |= {ErrorCode.PIN_USED, ErrorCode.PIN_MISSING, ErrorCode.ACCOUNT_LOCKED}
NO_RETRY = PIN_REFUSALS | {ErrorCode.EPOC_INVALID, ErrorCode.CERT_NOT_ACCEPTED}
NO_RETRY |= {ErrorCode.NO_CURRENT_CERT}


def last_epoc(state_dir: Path) -> str | None:
    try:
        data = json.loads((state_dir / LAST_LOGON).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    epoc = data.get("epoc") if isinstance(data, dict) else None
    return epoc if isinstance(epoc, str) else None


def remember_epoc(state_dir: Path, epoc: str) -> None:
    """Only the EPOC number: it is printed on letters and certificates, never a secret."""
    try:
        write_atomic(state_dir / LAST_LOGON, (json.dumps({"epoc": epoc}) + "\n").encode())
    except OSError as exc:
        log.warning("could not remember the last EPOC number: %s", exc)


def prefill(app: App) -> tuple[str | None, frozenset[str]]:
    """The EPOC to show, and the EPOCs whose current certificate can renew (no PIN)."""
    installed: str | None = None
    renewable: set[str] = set()
    try:
        installed = app.status.installed_epoc()
        epocs = {s.epoc for s in app.status.certificates() if s.epoc}
        renewable = {e for e in epocs if app.status.current(e) is not None}
    except EcmtError as error:  # the PIN route still works without the store
        log.warning("could not read the certificates here: %s", error)
    epoc = installed or last_epoc(app.settings.state_dir) or app.settings.default_epoc
    return epoc, frozenset(renewable)


@dataclass(frozen=True)
class LoggedOn:
    account: AccountInfo
    terms: TermsDocument
    credentials: PinCredentials | None
    identity: ClientIdentity | None


def finish(
    app: App, account: AccountInfo, creds: PinCredentials | None, identity: ClientIdentity | None
) -> LoggedOn:
    """Still off the GUI thread: the terms come along, so R-4 knows whether R-5 is needed."""
    terms = app.terms.current()
    remember_epoc(app.settings.state_dir, account.epoc)
    return LoggedOn(account, terms, creds, identity)


class LogonPage(StepPage):
    page_id = PageId.LOGON

    def build(self) -> None:
        self.epoc = QLineEdit()
        self.epoc.setAccessibleName("EPOC number")
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setAccessibleName("PIN")
        self.pin.setAccessibleDescription(PIN_HINT)
        self.hint = label(PIN_HINT, name="PIN hint")
        form = QGridLayout()
        for row, (text, field) in enumerate((("&EPOC number", self.epoc), ("&PIN", self.pin))):
            caption = QLabel(text)
            caption.setBuddy(field)
            form.addWidget(caption, row, 0)
            form.addWidget(field, row, 1)
        form.addWidget(self.hint, 2, 1)
        # a refusal shows right under the fields it is about, not at the foot of the page
        page_layout = self.layout()
        assert page_layout is not None
        page_layout.removeWidget(self.errors)
        form.addWidget(self.errors, 3, 1)
        form.setColumnStretch(1, 1)
        self.logged_on = StatusLine()
        self.logged_on.setObjectName("loggedOn")
        self.logged_on.hide()
        self.log_on_button = button("&Log on", "Log on", self.log_on)
        self.renew_note = label(RENEW_NOTE, name="About renewing with your current certificate")
        self.renew = button(
            "Renew with my &current certificate",
            "Renew with my current certificate",
            self.log_on_with_certificate,
        )
        self.status = StatusLine()
        area, content = scrolling("Log on")
        content.addWidget(self.logged_on)
        content.addLayout(form)
        for widget in (self.log_on_button, self.renew_note, self.renew, self.status):
            content.addWidget(widget)
        for widget in (self.log_on_button, self.renew):
            content.setAlignment(widget, Qt.AlignmentFlag.AlignLeft)
        content.insertSpacing(3, self.fontMetrics().height())  # set the second way apart
        content.addStretch(1)
        self.body.addWidget(area, 1)
        take_spare_height(self.layout(), self.body)
        self.epoc.returnPressed.connect(self.pin.setFocus)
        self.pin.returnPressed.connect(self.log_on)
        self.epoc.textEdited.connect(self._edited)
        self.pin.textEdited.connect(self._edited)
        self._renewable: frozenset[str] = frozenset()
        self._last_try: Callable[[], None] = self.log_on
        self._show_renew()
        self.status.hide()

    def enter(self) -> None:
        if self.busy:
            return
        self._show_logged_on()
        self._last_try = self.enter
        self._set_busy(True, "Looking for your certificate on this computer…")
        session = self.session  # the app may still be being built: use it off the GUI thread
        self.run(
            lambda _report, _cancel: prefill(session.app), self._prefilled, None, self._refused
        )

    def _prefilled(self, found: tuple[str | None, frozenset[str]]) -> None:
        epoc, self._renewable = found
        if epoc and not self.epoc.text():
            self.epoc.setText(epoc)
        self._set_busy(False)
        self._show_renew()
        (self.pin if self.epoc.text() else self.epoc).setFocus()

    def shown(self) -> None:
        if not self.busy:
            self._show_logged_on()

    def _show_logged_on(self) -> None:
        """Back on this page after logging on (Back, or Try again after a stopped request):
        say who is logged on, so an empty PIN box with Next enabled is not a puzzle."""
        account = self.session.account
        self.complete = account is not None
        self.logged_on.setVisible(account is not None)
        if account is not None:
            how = "your PIN" if self.session.credentials else "your current certificate"
            self.logged_on.set(
                f"You are logged on as {account.display_name} (EPOC {account.epoc}) with "
                f"{how}. Choose Next to carry on, or log on again below.",
                Mood.OK,
            )

    def _edited(self) -> None:
        """The account shown next must match what is typed here: a change logs off."""
        if self.session.account is not None:
            self.session.account = self.session.credentials = self.session.identity = None
            self._show_logged_on()
        self.complete = False
        self._show_renew()

    def _show_renew(self) -> None:
        can = self.epoc.text().strip() in self._renewable
        self.renew.setVisible(can)
        self.renew_note.setVisible(can)

    def _set_busy(self, busy: bool, text: str = "") -> None:
        """Fields turn read-only, not disabled: focus stays in them, so it cannot land on an
        auto-default wizard button (Cancel) that a second Enter would then press."""
        if busy and (self.log_on_button.hasFocus() or self.renew.hasFocus()):
            self.pin.setFocus()
        for field in (self.epoc, self.pin):
            field.setReadOnly(busy)
        for control in (self.log_on_button, self.renew):
            control.setEnabled(not busy)
        self.status.setVisible(busy)
        if busy:
            self.status.set(text, Mood.WORKING)

    def log_on(self) -> None:
        from pydantic import SecretStr

        self._attempt(self.log_on, SecretStr(self.pin.text()))

    def log_on_with_certificate(self) -> None:
        self._attempt(self.log_on_with_certificate, None)

    def _attempt(self, again: Callable[[], None], pin: SecretStr | None) -> None:
        if self.busy:
            return
        self._last_try = again
        from ...services.logon import validate_epoc

        app = self.session.app
        try:  # checked here, before any network call
            epoc = validate_epoc(self.epoc.text(), app.settings.epoc_pattern)
            creds = None if pin is None else app.logon.credentials(epoc, pin)
        except EcmtError as error:  # without detail: a PIN typed in the EPOC box stays out
            self._refused(EcmtError(error.code))
            return

        def work(_report: object, _cancel: object) -> LoggedOn:
            if creds is not None:
                return finish(app, app.logon.logon(creds), creds, None)
            identity = app.current_identity(epoc)
            return finish(app, app.logon.logon_with_certificate(identity), None, identity)

        what = "your EPOC number and PIN" if creds else "your current certificate"
        self._set_busy(True, f"Checking {what} with the service…")
        self.run(work, self._logged_on, None, self._refused)

    def _logged_on(self, result: LoggedOn) -> None:
        self.pin.clear()
        session = self.session
        session.account, session.terms = result.account, result.terms
        session.credentials, session.identity = result.credentials, result.identity
        self._set_busy(False)
        self.complete = True
        self.go_next()

    def _refused(self, error: EcmtError) -> None:
        self._set_busy(False)
        extra = ""
        if error.code in PIN_REFUSALS:
            self.pin.clear()
            self.pin.setFocus()
        if error.code is ErrorCode.EPOC_INVALID:
            self.epoc.setFocus()
            self.epoc.selectAll()
        helpdesks = self.session.app.settings.helpdesks
        if error.code is ErrorCode.ACCOUNT_LOCKED and helpdesks:
            extra = f"{helpdesks[0].name}: {helpdesks[0].phone}."
        if error.code is ErrorCode.BACKUP_NO_KEY:  # a key the store will not let us use
            error = EcmtError(ErrorCode.NO_CURRENT_CERT, error.detail)
            extra = (
                "Your current certificate's key is locked inside this computer's store, so "
                "this program cannot use it to renew. Log on with your EPOC number and the "
                "PIN from your most recent PIN letter instead."
            )
            self.pin.setFocus()
        self.show_error(error, extra, can_retry=error.code not in NO_RETRY)

    def retry(self) -> None:
        """Try again after a network or service failure: the same attempt, once more."""
        self.errors.clear()
        self.pin.setFocus()  # not on whichever wizard button follows the hidden panel
        self._last_try()
