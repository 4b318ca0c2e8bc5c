"""A renewal with the keyboard alone: keys go to whichever widget has the focus (as they
do for a user), never a mouse event, a click() or a setText(). At each step the test
checks that the focus is on a visible control where a user would expect it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget, QWizard
from pytestqt.qtbot import QtBot
from walk_helpers import WAIT_MS

from ecmt import __version__, pkcs12
from ecmt.domain.models import PinCredentials
from ecmt.services.renewal import RenewalRequest
from ecmt.ui.pages.backup import BackupPage
from ecmt.ui.pages.base import PageId, StepPage
from ecmt.ui.pages.done import DonePage
from ecmt.ui.pages.logon import LogonPage
from ecmt.ui.pages.overview import OverviewPage
from ecmt.ui.pages.terms import TermsPage
from ecmt.ui.session import WizardSession
from ecmt.ui.wizard import RenewalWizard
from support import Harness, release_keys
from support import publish_release as publish

NO = Qt.KeyboardModifier.NoModifier
ALT = Qt.KeyboardModifier.AltModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def focused() -> QWidget:
    """Where the keys go; it must be something the user can see and use."""
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    assert widget.isVisible(), f"the focus is on a hidden {widget.accessibleName()!r}"
    assert widget.isEnabled(), f"the focus is on a disabled {widget.accessibleName()!r}"
    return widget


def press(key: Qt.Key, modifier: Qt.KeyboardModifier = NO) -> None:
    QTest.keyClick(focused(), key, modifier)


def type_text(text: str) -> None:
    QTest.keyClicks(focused(), text)


def focus_is(widget: QWidget) -> bool:
    return QApplication.focusWidget() is widget


def scroll_area_of(page: StepPage) -> QScrollArea:
    [area] = [a for a in page.findChildren(QScrollArea) if a.isVisible()]
    return area


def test_a_renewal_with_the_keyboard_alone(
    qtbot: QtBot, server: Harness, session_for: Callable[..., WizardSession]
) -> None:
    publish(server, 1, __version__, __version__)
    session = session_for(server, release_keys=release_keys(server))
    epoc = server.add_account(name="Dr Keys Only", accept_terms=False)
    pin = server.issue_pin(epoc)
    wizard = RenewalWizard(session)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow, timeout=WAIT_MS)

    def arrive(page_id: PageId) -> StepPage:
        page = wizard.page_of(page_id)
        qtbot.waitUntil(lambda: wizard.currentId() == page_id and not page.busy, timeout=WAIT_MS)
        return page

    next_button = wizard.button(QWizard.WizardButton.NextButton)

    # R-1 passes by itself; the focus is then on Next, and Enter goes on
    admin = arrive(PageId.ADMIN)
    qtbot.waitUntil(admin.isComplete, timeout=WAIT_MS)
    assert focus_is(next_button)
    press(Qt.Key.Key_Return)

    # the focus is on the page (never a hidden Try again); Alt+N goes on
    version = arrive(PageId.VERSION)
    qtbot.waitUntil(version.isComplete, timeout=WAIT_MS)
    assert focus_is(scroll_area_of(version))
    assert not version.errors.retry.hasFocus()
    press(Qt.Key.Key_N, ALT)

    # the empty EPOC field has the focus; Enter moves to the PIN; Tab to Log on
    logon = arrive(PageId.LOGON)
    assert isinstance(logon, LogonPage)
    assert focus_is(logon.epoc)
    assert logon.epoc.text() == ""
    type_text(epoc)
    press(Qt.Key.Key_Return)
    assert focus_is(logon.pin)
    assert wizard.currentId() == PageId.LOGON
    type_text(pin)
    press(Qt.Key.Key_Tab)
    assert focus_is(logon.log_on_button)
    press(Qt.Key.Key_Tab, SHIFT)
    assert focus_is(logon.pin)
    assert logon.pin.text() == pin
    press(Qt.Key.Key_Tab)
    press(Qt.Key.Key_Space)  # Log on

    # Tab reaches "Request and download certificate"; Space presses it
    overview = arrive(PageId.OVERVIEW)
    assert isinstance(overview, OverviewPage)
    assert overview.facts["Name"].text() == "Dr Keys Only"
    assert overview.isAncestorOf(focused())
    for _ in range(5):
        if focus_is(overview.action):
            break
        press(Qt.Key.Key_Tab)
    assert focus_is(overview.action)
    press(Qt.Key.Key_Space)

    # the text has the focus (arrows and Page Down scroll it); Tab, then Alt+I accepts
    terms = arrive(PageId.TERMS)
    assert isinstance(terms, TermsPage)
    qtbot.waitUntil(terms.accept_button.isEnabled, timeout=WAIT_MS)
    assert focus_is(terms.text)
    bar = terms.text.verticalScrollBar()
    before = bar.value()
    press(Qt.Key.Key_PageDown)
    assert bar.maximum() == 0 or bar.value() > before
    press(Qt.Key.Key_Tab)
    assert focus_is(terms.accept_button)
    press(Qt.Key.Key_I, ALT)
    qtbot.waitUntil(lambda: server.account_row(epoc).terms_accepted_version == "1", timeout=WAIT_MS)

    # R-6 runs by itself; R-7: Tab reaches the Yes/No choice, Alt+O says No, Enter goes on
    backup = arrive(PageId.BACKUP)
    assert isinstance(backup, BackupPage)
    assert session.result is not None
    assert backup.isAncestorOf(focused())
    assert not backup.isComplete()
    for _ in range(3):
        if focus_is(backup.yes):
            break
        press(Qt.Key.Key_Tab)
    assert focus_is(backup.yes)
    press(Qt.Key.Key_O, ALT)
    qtbot.waitUntil(backup.no.isChecked, timeout=WAIT_MS)
    assert focus_is(backup.no)
    assert backup.isComplete()
    assert not backup.form.isVisible()
    press(Qt.Key.Key_Return)

    # Done: the summary has the focus; Enter is Finish
    done = arrive(PageId.DONE)
    assert isinstance(done, DonePage)
    assert done.summary.lines["backup"].text.text().startswith("No backup was made.")
    assert done.isAncestorOf(focused())
    press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=WAIT_MS)
    assert wizard.result() == QWizard.DialogCode.Accepted
    assert [c.fingerprint for c in session.app.status.certificates(epoc)] == [
        session.result.installed.fingerprint
    ]


def test_a_backup_with_the_keyboard_alone(
    qtbot: QtBot, server: Harness, session: WizardSession, tmp_path: Path
) -> None:
    """R-7's Yes path: every field reached with Tab or its Alt letter; Enter (Next) makes
    the backup and moves on once it is checked."""
    epoc = server.add_account()
    credentials = PinCredentials(epoc, SecretStr(server.issue_pin(epoc)))
    session.account = session.app.logon.logon(credentials)
    session.credentials = credentials
    session.result = session.app.renewal.renew(RenewalRequest(epoc, credentials=credentials))
    wizard = RenewalWizard(session)
    qtbot.addWidget(wizard)
    wizard.setStartId(int(PageId.BACKUP))
    wizard.show()
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow, timeout=WAIT_MS)
    page = wizard.page_of(PageId.BACKUP)
    assert isinstance(page, BackupPage)
    folder = tmp_path / "by keyboard"

    for _ in range(3):
        if focus_is(page.yes):
            break
        press(Qt.Key.Key_Tab)
    assert focus_is(page.yes)
    press(Qt.Key.Key_Space)
    assert page.yes.isChecked()
    form = page.form
    assert form.isVisible()
    press(Qt.Key.Key_Tab)
    assert focus_is(form.folder)
    QTest.keySequence(focused(), QKeySequence(QKeySequence.StandardKey.SelectAll))
    type_text(str(folder))
    press(Qt.Key.Key_Tab)
    assert focus_is(form.choose)
    press(Qt.Key.Key_Tab)
    assert focus_is(form.file_name)
    QTest.keySequence(focused(), QKeySequence(QKeySequence.StandardKey.SelectAll))
    type_text("keys.p12")
    press(Qt.Key.Key_P, ALT)
    assert focus_is(form.password)
    type_text("Keyboard2027")
    press(Qt.Key.Key_Tab)
    assert focus_is(form.again)
    type_text("Keyboard2027")
    assert form.ready()
    press(Qt.Key.Key_Return)  # Next: the backup, then Done
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.DONE, timeout=WAIT_MS)
    assert session.backup is not None
    assert session.backup.path == folder / "keys.p12"
    opened = pkcs12.open_(session.backup.path.read_bytes(), b"Keyboard2027")
    assert opened.certificate == session.result.identity.certificate
