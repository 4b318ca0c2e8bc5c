"""Steps R-1 (administrator), R-2 (version), R-3 (log on) and R-4 (your account), driven in
the real wizard against the real reference server. Assertions are on codes and state."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QLabel,
    QLineEdit,
    QWidget,
    QWizard,
)
from pytestqt.qtbot import QtBot

from ccms_protocol.wire import short_reference
from ecmt import __version__
from ecmt.domain.errors import ErrorCode
from ecmt.domain.models import CertState
from ecmt.services import environment as admin_module  # the page imports from it on use
from ecmt.services.environment import ElevationStatus, RelaunchOutcome, RelaunchResult
from ecmt.ui.pages.admin import AdminPage
from ecmt.ui.pages.base import PageId, StepPage
from ecmt.ui.pages.logon import LAST_LOGON, PIN_HINT, LogonPage
from ecmt.ui.pages.overview import OverviewPage
from ecmt.ui.pages.request import RequestPage
from ecmt.ui.pages.terms import TermsPage
from ecmt.ui.pages.version import VersionPage
from ecmt.ui.session import WizardSession
from ecmt.ui.widgets import Mood
from ecmt.ui.wizard import RenewalWizard
from support import API, Harness, release_keys
from support import publish_release as publish

WAIT = 60_000
HELPDESK = {"name": "ePractitioner helpdesk", "phone": "02045 836 906"}
SessionFor = Callable[..., WizardSession]


# --- helpers -------------------------------------------------------------------------------


def open_at(
    qtbot: QtBot,
    session: WizardSession,
    page_id: PageId,
    before_show: Callable[[RenewalWizard], None] | None = None,
) -> tuple[RenewalWizard, Any]:
    """The full wizard, started at `page_id`; returns once the page's first task is done."""
    wizard = RenewalWizard(session)
    qtbot.addWidget(wizard)
    wizard.setStartId(int(page_id))
    if before_show is not None:
        before_show(wizard)
    wizard.show()
    page = wizard.page_of(page_id)
    settle(qtbot, page)
    return wizard, page


def settle(qtbot: QtBot, page: StepPage) -> None:
    qtbot.waitUntil(lambda: not page.busy, timeout=WAIT)


def next_enabled(wizard: RenewalWizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def panel_text(page: StepPage) -> str:
    panel = page.errors
    return " ".join(w.text() for w in (panel.title, panel.advice, panel.facts))


def assert_panel(page: StepPage, code: ErrorCode, retry: bool) -> None:
    """The code and the request reference are on screen, with Try again only if it helps."""
    assert page.errors.isVisible()
    assert page.errors.error is not None
    assert page.errors.error.code is code
    assert f"Error code: {code.value}" in page.errors.facts.text()
    assert page.errors.retry.isVisible() is retry


def assert_accessible(page: StepPage) -> None:
    """Every control a keyboard reaches has a name; every mnemonic label has a buddy."""
    for widget in page.findChildren(QWidget):
        reachable = widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        if reachable and isinstance(widget, QAbstractButton | QLineEdit | QAbstractScrollArea):
            assert widget.accessibleName(), widget
        if isinstance(widget, QLabel) and "&" in widget.text().replace("&&", ""):
            assert widget.buddy() is not None, widget.text()


def install_certificate(server: Harness, session: WizardSession, epoc: str) -> None:
    """A valid certificate with its key for `epoc`, issued by the server, in this store."""
    identity = server.new_identity(epoc)
    session.app.store.install(identity.key, identity.cert, [], "ePractitioner")


def wrong_pin(server: Harness, epoc: str) -> None:
    with server.http() as http:
        reply = http.get(server.url + API + "account", auth=(epoc, "WRONG-PIN-0000"), timeout=30)
    assert reply.status_code in {401, 403}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# --- R-1 administrator check -----------------------------------------------------------------


def test_r1_passes_by_itself_when_the_store_needs_no_elevation(qtbot, session):
    wizard, page = open_at(qtbot, session, PageId.ADMIN)
    assert isinstance(page, AdminPage)
    assert page.status.mood is Mood.OK
    assert page.status.text.text() == (
        f"No administrator rights are needed: your certificate goes to {session.app.store_name}."
    )
    assert page.status.toolTip() == session.app.store.description  # the path, for IT
    assert page.isComplete()
    assert next_enabled(wizard)
    assert not page.restart.isVisible()
    assert page.title() == "Step 1 of 7 · R-1: Administrator check"
    assert session.step_code == "R-1"
    assert_accessible(page)


def needs_elevation(monkeypatch: pytest.MonkeyPatch) -> None:
    status = ElevationStatus(
        elevated=False,
        store_needs_elevation=True,
        ok=False,
        how_to_elevate="Quit, then run the program with sudo.",
        store="NSS database /etc/pki/nssdb",
    )
    monkeypatch.setattr(admin_module, "elevation_check", lambda store: status)


def test_r1_elevated_for_the_machine_store_says_it_runs_as_administrator(
    qtbot, session, monkeypatch
):
    """Elevated, the machine store needs nothing more: the page says it runs with the
    rights that store needs, not that none are needed."""
    status = ElevationStatus(
        elevated=True, store_needs_elevation=False, ok=True, how_to_elevate="", store="LM\\My"
    )
    monkeypatch.setattr(admin_module, "elevation_check", lambda store: status)
    monkeypatch.setattr(session.app, "store_value", "windows:machine")
    _wizard, page = open_at(qtbot, session, PageId.ADMIN)
    assert page.status.mood is Mood.OK
    assert page.status.text.text() == (
        "This program is running as administrator, as this computer's certificate store needs."
    )


def test_r1_on_windows_offers_restart_and_says_so_when_uac_is_cancelled(
    qtbot, session, monkeypatch
):
    needs_elevation(monkeypatch)
    outcome = [RelaunchOutcome.CANCELLED]
    calls: list[str] = []
    monkeypatch.setattr(
        admin_module, "relaunch_elevated", lambda: RelaunchResult(outcome[0], 42, 1223)
    )

    def windows(wizard: RenewalWizard) -> None:
        page = wizard.page_of(PageId.ADMIN)
        assert isinstance(page, AdminPage)
        page.platform = "win32"
        page.quit_app = lambda: calls.append("quit")

    wizard, page = open_at(qtbot, session, PageId.ADMIN, windows)
    assert page.status.mood is Mood.PROBLEM
    assert session.app.store_name in page.status.text.text()
    assert page.status.toolTip() == "NSS database /etc/pki/nssdb"
    assert page.restart.isVisible()
    assert page.restart.accessibleName()
    assert not page.isComplete()
    assert not next_enabled(wizard)

    qtbot.mouseClick(page.restart, Qt.MouseButton.LeftButton)
    settle(qtbot, page)
    assert page.status.mood is Mood.WARNING
    assert "cancelled" in page.status.text.text()
    assert calls == []
    assert not next_enabled(wizard)

    outcome[0] = RelaunchOutcome.STARTED
    qtbot.mouseClick(page.restart, Qt.MouseButton.LeftButton)
    settle(qtbot, page)
    assert calls == ["quit"]


def test_r1_elsewhere_shows_how_to_elevate_instead_of_a_button(qtbot, session, monkeypatch):
    needs_elevation(monkeypatch)

    def linux(wizard: RenewalWizard) -> None:
        page = wizard.page_of(PageId.ADMIN)
        assert isinstance(page, AdminPage)
        page.platform = "linux"

    wizard, page = open_at(qtbot, session, PageId.ADMIN, linux)
    assert page.how.isVisible()
    assert page.how.text() == "Quit, then run the program with sudo."
    assert not page.restart.isVisible()
    assert not next_enabled(wizard)


def test_r1_a_failed_relaunch_shows_the_error_panel(qtbot, session, monkeypatch):
    needs_elevation(monkeypatch)
    monkeypatch.setattr(
        admin_module,
        "relaunch_elevated",
        lambda: RelaunchResult(RelaunchOutcome.FAILED, 2, 2),
    )
    wizard, page = open_at(
        qtbot,
        session,
        PageId.ADMIN,
        lambda w: setattr(w.page_of(PageId.ADMIN), "platform", "win32"),
    )
    qtbot.mouseClick(page.restart, Qt.MouseButton.LeftButton)
    settle(qtbot, page)
    assert_panel(page, ErrorCode.STORE_ELEVATION_REQUIRED, retry=True)
    assert not next_enabled(wizard)


# --- R-2 version check -----------------------------------------------------------------------


@pytest.fixture
def keyed(server: Harness, session_for: SessionFor) -> WizardSession:
    """A client that trusts the server's release key."""
    return session_for(server, release_keys=release_keys(server))


def test_r2_fine(qtbot, server, keyed):
    publish(server, 1, __version__, __version__)
    wizard, page = open_at(qtbot, keyed, PageId.VERSION)
    assert isinstance(page, VersionPage)
    assert keyed.release is not None
    assert keyed.release.verdict == "fine"
    assert page.status.mood is Mood.OK
    assert (
        page.status.text.text() == f"You have the newest version of this program ({__version__})."
    )
    assert next_enabled(wizard)
    assert not page.download.isVisible()
    assert "error" not in page.status.text.text().lower()  # no "initial login error" here
    assert_accessible(page)


def test_r2_offer_lets_the_user_carry_on(qtbot, server, keyed, monkeypatch):
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    artifact = {
        "platform": keyed.app.release.platform,
        "kind": "installer",
        "url": "https://example.invalid/ecmt-999.0.0",
        "sha256": "ab" * 32,
        "size": 1,
    }
    publish(server, 1, "999.0.0", __version__, [artifact])
    wizard, page = open_at(qtbot, keyed, PageId.VERSION)
    assert keyed.release is not None
    assert keyed.release.verdict == "offer"
    assert "A newer version, 999.0.0, is available" in page.status.text.text()
    assert page.download.isVisible()
    assert next_enabled(wizard)
    assert page.notes.isVisible()
    assert "Clearer messages." in page.notes.toPlainText()
    assert page.digest.text() == "ab" * 32
    qtbot.mouseClick(page.download, Qt.MouseButton.LeftButton)
    assert [u.toString() for u in opened] == ["https://example.invalid/install.html"]
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    assert wizard.currentId() == PageId.LOGON
    settle(qtbot, wizard.page_of(PageId.LOGON))


def test_r2_block_stops_with_the_download_page_and_digest(qtbot, server, keyed):
    artifact = {
        "platform": keyed.app.release.platform,
        "kind": "installer",
        "url": "https://example.invalid/ecmt-999.0.0",
        "sha256": "cd" * 32,
        "size": 1,
    }
    publish(server, 1, "999.0.0", "999.0.0", [artifact])
    wizard, page = open_at(qtbot, keyed, PageId.VERSION)
    assert keyed.release is not None
    assert keyed.release.verdict == "block"
    assert page.status.mood is Mood.PROBLEM
    assert "999.0.0 or newer is needed" in page.status.text.text()
    assert page.download.isVisible()
    assert page.address.text() == "https://example.invalid/install.html"
    assert page.digest.isVisible()
    assert page.digest.text() == "cd" * 32
    assert not page.isComplete()
    assert not next_enabled(wizard)
    assert keyed.last_error is not None
    assert keyed.last_error.code is ErrorCode.RELEASE_BLOCKED


def test_r2_unreachable_shows_a_network_diagnosis_and_try_again_repeats_it(
    qtbot, server, session_for
):
    url = f"https://127.0.0.1:{closed_port()}"
    session = session_for(server, server_url=url, release_keys=release_keys(server))
    wizard, page = open_at(qtbot, session, PageId.VERSION)
    assert_panel(page, ErrorCode.NETWORK_CONNECT, retry=True)
    text = panel_text(page)
    assert "cannot be reached" in text
    assert url in text
    assert "Traceback" not in text
    assert "Reference:" in page.errors.facts.text()
    first = page.errors.error
    assert not next_enabled(wizard)
    qtbot.mouseClick(page.errors.retry, Qt.MouseButton.LeftButton)
    settle(qtbot, page)
    assert_panel(page, ErrorCode.NETWORK_CONNECT, retry=True)
    assert page.errors.error is not first  # a second attempt was really made
    assert session.last_error is page.errors.error
    assert not next_enabled(wizard)


def test_r2_no_manifest_published_is_a_warning_and_lets_the_user_carry_on(qtbot, keyed):
    wizard, page = open_at(qtbot, keyed, PageId.VERSION)
    assert page.status.mood is Mood.WARNING
    assert "not available" in page.status.text.text()
    assert not page.errors.isVisible()
    assert next_enabled(wizard)


def test_r2_without_release_keys_the_check_is_unverified_and_stops(qtbot, session):
    wizard, page = open_at(qtbot, session, PageId.VERSION)
    assert_panel(page, ErrorCode.RELEASE_UNVERIFIED, retry=True)
    assert not next_enabled(wizard)


# --- R-3 log on ------------------------------------------------------------------------------


def type_and_log_on(qtbot: QtBot, page: LogonPage, epoc: str, pin: str) -> None:
    page.epoc.setText(epoc)
    page.pin.setText(pin)
    qtbot.mouseClick(page.log_on_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)


def test_r3_form_is_masked_named_and_waits_for_a_logon(qtbot, session):
    wizard, page = open_at(qtbot, session, PageId.LOGON)
    assert isinstance(page, LogonPage)
    assert page.pin.echoMode() is QLineEdit.EchoMode.Password
    assert page.hint.text() == PIN_HINT
    assert page.hint.isVisible()
    assert not page.renew.isVisible()  # nothing installed here
    assert not page.isComplete()
    assert not next_enabled(wizard)
    assert_accessible(page)
    captions = {w.text(): w.buddy() for w in page.findChildren(QLabel) if w.buddy()}
    assert captions == {"&EPOC number": page.epoc, "&PIN": page.pin}
    # keyboard order: EPOC number, PIN, Log on, Renew with my current certificate
    wanted = [page.epoc, page.pin, page.log_on_button, page.renew]
    assert [w for w in focus_chain(page.epoc) if w in wanted] == wanted


def focus_chain(start: QWidget) -> list[QWidget]:
    chain, widget = [start], start.nextInFocusChain()
    while widget is not start:
        chain.append(widget)
        widget = widget.nextInFocusChain()
    return chain


def test_r3_prefills_the_deployment_epoc(qtbot, server, session_for):
    session = session_for(server, default_epoc="7654321")
    _, page = open_at(qtbot, session, PageId.LOGON)
    assert page.epoc.text() == "7654321"


def test_r3_prefills_the_last_logon_before_the_deployment(qtbot, server, session_for):
    session = session_for(server, default_epoc="7654321")
    state = session.app.settings.state_dir
    state.mkdir(parents=True, exist_ok=True)
    (state / LAST_LOGON).write_text(json.dumps({"epoc": "1234567"}))
    _, page = open_at(qtbot, session, PageId.LOGON)
    assert page.epoc.text() == "1234567"


def test_r3_prefills_the_installed_certificate_and_offers_renewal_with_it(
    qtbot, server, session_for
):
    session = session_for(server, default_epoc="7654321")
    epoc = server.add_account()
    install_certificate(server, session, epoc)
    (session.app.settings.state_dir / LAST_LOGON).write_text(json.dumps({"epoc": "1234567"}))
    wizard, page = open_at(qtbot, session, PageId.LOGON)
    assert page.epoc.text() == epoc
    assert page.renew.isVisible()
    assert page.renew_note.isVisible()
    page.epoc.setText("1234567")
    page.epoc.textEdited.emit("1234567")
    assert not page.renew.isVisible()  # no valid certificate for that EPOC here
    page.epoc.setText(epoc)
    page.epoc.textEdited.emit(epoc)
    assert page.renew.isVisible()

    qtbot.mouseClick(page.renew, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.OVERVIEW, timeout=WAIT)
    settle(qtbot, wizard.page_of(PageId.OVERVIEW))
    assert session.account is not None
    assert session.account.epoc == epoc
    assert session.identity is not None
    assert session.credentials is None
    assert session.terms is not None


def test_r3_success_moves_on_clears_the_pin_and_remembers_only_the_epoc(
    qtbot, server, session, caplog
):
    caplog.set_level(logging.DEBUG)
    epoc = server.add_account(name="Dr Logon Person")
    pin = server.issue_pin(epoc)
    wizard, page = open_at(qtbot, session, PageId.LOGON)
    page.epoc.setText(epoc)
    page.pin.setText(pin)
    qtbot.keyClick(page.pin, Qt.Key.Key_Return)  # Enter in the PIN field logs on
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.OVERVIEW, timeout=WAIT)
    settle(qtbot, wizard.page_of(PageId.OVERVIEW))
    assert page.pin.text() == ""
    assert session.account is not None
    assert session.account.display_name == "Dr Logon Person"
    assert session.credentials is not None
    assert session.credentials.epoc == epoc
    assert session.terms is not None
    assert session.identity is None
    stored = json.loads((session.app.settings.state_dir / LAST_LOGON).read_text())
    assert stored == {"epoc": epoc}
    assert session.last_error is None
    assert pin not in session.support_details()
    assert pin not in caplog.text


def test_r3_back_again_says_who_is_logged_on_and_editing_logs_off(qtbot, server, session):
    """After a logon, Back (or Try again after a stopped request) shows an empty PIN box
    with Next enabled: the page says who is logged on, and any change logs off."""
    epoc = server.add_account(name="Dr Back Again")
    wizard, page = open_at(qtbot, session, PageId.LOGON)
    type_and_log_on(qtbot, page, epoc, server.issue_pin(epoc))
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.OVERVIEW, timeout=WAIT)
    settle(qtbot, wizard.page_of(PageId.OVERVIEW))
    wizard.back()
    assert wizard.currentId() == PageId.LOGON
    settle(qtbot, page)
    assert page.pin.text() == ""
    assert page.logged_on.isVisible()
    assert page.logged_on.mood is Mood.OK
    assert page.logged_on.text.text().startswith(
        f"You are logged on as Dr Back Again (EPOC {epoc}) with your PIN."
    )
    assert next_enabled(wizard)
    qtbot.keyClicks(page.pin, "X")
    assert not page.logged_on.isVisible()
    assert session.account is None
    assert session.credentials is None
    assert not next_enabled(wizard)


def test_r3_invalid_epoc_is_refused_before_any_network_call(qtbot, session, monkeypatch):
    def no_network(*args: object) -> None:
        raise AssertionError("logon was called")

    monkeypatch.setattr(session.app.logon, "logon", no_network)
    wizard, page = open_at(qtbot, session, PageId.LOGON)
    type_and_log_on(qtbot, page, "12ab", "ABCD-EFGH-JKLM")
    assert_panel(page, ErrorCode.EPOC_INVALID, retry=False)
    assert page.epoc.hasFocus() or page.focusWidget() is page.epoc
    type_and_log_on(qtbot, page, "1234567", "   ")
    assert_panel(page, ErrorCode.PIN_MISSING, retry=False)
    assert not next_enabled(wizard)


def test_r3_wrong_pin_shows_tries_left_and_clears_the_field(qtbot, server, session):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    wizard, page = open_at(qtbot, session, PageId.LOGON)
    type_and_log_on(qtbot, page, epoc, "WRONG-PIN-0000")
    assert_panel(page, ErrorCode.AUTH_INVALID, retry=False)
    assert "4 tries left" in page.errors.advice.text()
    # the short reference on screen; the full request id in the support details
    error = session.last_error
    assert error is not None
    assert error.reference is not None
    short = short_reference(error.reference)
    assert page.errors.facts.text().endswith(f"Reference: {short}")
    assert error.reference not in page.errors.facts.text()
    assert f"Reference: {short} ({error.reference})" in session.support_details()
    # the message sits right under the fields it is about
    assert page.errors.parentWidget() is page.pin.parentWidget()
    assert page.errors.y() > page.pin.y()
    assert page.pin.text() == ""
    assert not next_enabled(wizard)
    assert session.last_error is not None
    assert "WRONG-PIN-0000" not in str(session.last_error.detail)
    assert "WRONG-PIN-0000" not in session.support_details()
    type_and_log_on(qtbot, page, epoc, pin)  # the right PIN still works
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.OVERVIEW, timeout=WAIT)
    settle(qtbot, wizard.page_of(PageId.OVERVIEW))


def test_r3_superseded_pin_has_its_own_message(qtbot, server, session):
    epoc = server.add_account()
    old = server.issue_pin(epoc)
    server.issue_pin(epoc)
    _, page = open_at(qtbot, session, PageId.LOGON)
    type_and_log_on(qtbot, page, epoc, old)
    assert_panel(page, ErrorCode.PIN_SUPERSEDED, retry=False)
    assert "most recent PIN letter" in page.errors.advice.text()


def test_r3_locked_account_shows_the_helpdesk_number(qtbot, server, session_for):
    session = session_for(server, helpdesks=[HELPDESK])
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    for _ in range(5):
        wrong_pin(server, epoc)
    _, page = open_at(qtbot, session, PageId.LOGON)
    type_and_log_on(qtbot, page, epoc, pin)
    assert_panel(page, ErrorCode.ACCOUNT_LOCKED, retry=False)
    assert "02045 836 906" in page.errors.advice.text()
    assert page.pin.text() == ""


def test_r3_network_failure_offers_try_again(qtbot, server, session_for):
    session = session_for(server, server_url=f"https://127.0.0.1:{closed_port()}")
    _, page = open_at(qtbot, session, PageId.LOGON)
    type_and_log_on(qtbot, page, "1234567", "ABCD-EFGH-JKLM")
    assert_panel(page, ErrorCode.NETWORK_CONNECT, retry=True)
    first = page.errors.error
    qtbot.mouseClick(page.errors.retry, Qt.MouseButton.LeftButton)
    settle(qtbot, page)
    assert_panel(page, ErrorCode.NETWORK_CONNECT, retry=True)
    assert page.errors.error is not first


# --- R-4 your account ------------------------------------------------------------------------


def logged_on(server: Harness, session: WizardSession, accept_terms: bool = True) -> str:
    """What R-3 leaves behind, made through the same services."""
    from pydantic import SecretStr

    epoc = server.add_account(name="Dr Overview", accept_terms=accept_terms)
    app = session.app
    credentials = app.logon.credentials(epoc, SecretStr(server.issue_pin(epoc)))
    session.account = app.logon.logon(credentials)
    session.credentials = credentials
    session.terms = app.terms.current()
    return epoc


def test_r4_shows_the_account_and_both_lists_of_certificates(qtbot, server, session):
    epoc = server.add_account(name="Dr Overview")
    install_certificate(server, session, epoc)
    identity = session.app.current_identity(epoc)
    session.account = session.app.logon.logon_with_certificate(identity)
    session.identity = identity
    session.terms = session.app.terms.current()
    wizard, page = open_at(qtbot, session, PageId.OVERVIEW)
    assert isinstance(page, OverviewPage)
    assert page.facts["Name"].text() == "Dr Overview"
    assert page.facts["Organisation"].text() == "Test Practice"
    assert page.facts["Role"].text() == "GP"
    assert page.facts["EPOC number"].text() == epoc
    serial = session.account.certificates[0].serial
    [remote] = page.account_certs.lines
    assert remote.mood is Mood.OK
    assert remote.text.text().startswith("Valid, until ")
    assert "".join(remote.text.text().split("Serial number ")[1].split()) == serial.upper()
    assert remote.toolTip() == serial
    [local] = session.app.status.certificates(epoc)
    assert page.local_certs.isVisible()
    [line] = page.local_certs.lines
    assert local.state is CertState.VALID
    assert line.mood is Mood.OK
    assert f"({local.days_left} days left)" in line.text.text()
    assert line.text.text().endswith(f"in {session.app.store_name}")  # words, not a path
    assert line.toolTip() == session.app.store.description
    assert page.isComplete()
    assert next_enabled(wizard)
    assert_accessible(page)


def test_r4_without_certificates_says_so_in_words(qtbot, server, session):
    logged_on(server, session)
    _, page = open_at(qtbot, session, PageId.OVERVIEW)
    assert page.account_none.isVisible()
    assert not page.account_certs.isVisible()
    assert not page.local_certs.isVisible()
    assert "no certificate" in page.local_status.text.text()


@pytest.fixture
def quiet_next_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """R-5 and R-6 are other tests' business: arriving there must not start their work."""
    monkeypatch.setattr(TermsPage, "enter", lambda self: None)
    monkeypatch.setattr(RequestPage, "enter", lambda self: None)


@pytest.mark.usefixtures("quiet_next_steps")
def test_r4_goes_to_the_request_when_the_terms_are_accepted(qtbot, server, session):
    logged_on(server, session, accept_terms=True)
    wizard, page = open_at(qtbot, session, PageId.OVERVIEW)
    assert not session.needs_terms()
    assert page.nextId() == PageId.REQUEST
    qtbot.mouseClick(page.action, Qt.MouseButton.LeftButton)
    assert wizard.currentId() == PageId.REQUEST


@pytest.mark.usefixtures("quiet_next_steps")
def test_r4_goes_to_the_terms_when_they_need_accepting(qtbot, server, session):
    logged_on(server, session, accept_terms=False)
    wizard, page = open_at(qtbot, session, PageId.OVERVIEW)
    assert session.needs_terms()
    assert page.nextId() == PageId.TERMS
    qtbot.mouseClick(page.action, Qt.MouseButton.LeftButton)
    assert wizard.currentId() == PageId.TERMS


def test_r4_without_an_account_cannot_move_on(qtbot, session):
    wizard, page = open_at(qtbot, session, PageId.OVERVIEW)
    assert not page.isComplete()
    assert not page.action.isEnabled()
    assert not next_enabled(wizard)


def test_r4_unreadable_store_is_shown_but_does_not_block(qtbot, server, session, monkeypatch):
    from ecmt.domain.errors import EcmtError

    logged_on(server, session)

    def broken(epoc: str | None = None) -> list[Any]:
        raise EcmtError(ErrorCode.STORE_UNAVAILABLE, "test")

    monkeypatch.setattr(session.app.status, "certificates", broken)
    wizard, page = open_at(qtbot, session, PageId.OVERVIEW)
    assert_panel(page, ErrorCode.STORE_UNAVAILABLE, retry=True)
    assert page.local_status.mood is Mood.WARNING
    assert next_enabled(wizard)
