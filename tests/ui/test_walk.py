"""The whole renewal, R-1 to Done, through the real RenewalWizard against the real reference
server over TLS, and the failures a user meets on the way, each reached by walking there."""

from __future__ import annotations

import socket
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from PySide6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot
from walk_helpers import WAIT_MS, Backup, Walker, walk_renewal

from ecmt import __version__, pkcs12
from ecmt.domain.errors import ErrorCode
from ecmt.domain.models import BackupFormat, CertState, PinCredentials, Profile
from ecmt.services.renewal import RenewalRequest
from ecmt.ui.pages.admin import AdminPage
from ecmt.ui.pages.backup import BackupPage
from ecmt.ui.pages.base import PageId, StepPage
from ecmt.ui.pages.done import DonePage
from ecmt.ui.pages.logon import LogonPage
from ecmt.ui.pages.overview import OverviewPage
from ecmt.ui.pages.terms import TermsPage
from ecmt.ui.pages.version import VersionPage
from ecmt.ui.session import WizardSession
from ecmt.ui.steps import StepState
from ecmt.ui.widgets import Mood
from ecmt.ui.wizard import RenewalWizard
from support import API, Harness, release_keys
from support import publish_release as publish

DEFAULTS = tomllib.loads(resources.files("ecmt").joinpath("resources/defaults.toml").read_text())
HELPDESK = {"name": "ePractitioner helpdesk", "phone": "02045 836 906"}
SessionFor = Callable[..., WizardSession]


def open_wizard(qtbot: QtBot, session: WizardSession) -> Walker:
    wizard = RenewalWizard(session)
    qtbot.addWidget(wizard)
    wizard.show()
    return Walker(wizard, qtbot.waitUntil)


def keyed(server: Harness, session_for: SessionFor, **overrides: Any) -> WizardSession:
    """A client that trusts the server's release key, with the packaged notices."""
    values = {"notices": DEFAULTS["notices"], "helpdesks": DEFAULTS["helpdesks"], **overrides}
    return session_for(server, release_keys=release_keys(server), **values)


def next_enabled(walker: Walker) -> bool:
    return walker.wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def walk_to_logon(walker: Walker) -> LogonPage:
    for page_id in (PageId.ADMIN, PageId.VERSION):
        walker.arrive(page_id)
        walker.next()
    page = walker.arrive(PageId.LOGON)
    assert isinstance(page, LogonPage)
    return page


def walk_to_version(walker: Walker) -> VersionPage:
    walker.arrive(PageId.ADMIN)
    walker.next()
    page = walker.arrive(PageId.VERSION)
    assert isinstance(page, VersionPage)
    return page


def installed(session: WizardSession) -> list[Any]:
    return session.app.store.list(Profile())


# --- 1. the whole walk ---------------------------------------------------------------------


def test_the_whole_renewal_from_r1_to_done(
    qtbot: QtBot, server: Harness, session_for: SessionFor, tmp_path: Path
) -> None:
    publish(server, 1, __version__, __version__)
    session = keyed(server, session_for)
    epoc = server.add_account(name="Dr Whole Walk", accept_terms=False)
    pin = server.issue_pin(epoc)
    assert server.account_row(epoc).terms_accepted_version is None
    backup = Backup(tmp_path / "backups", "walk.p12", "Walk2027horse", BackupFormat.LEGACY)
    walker = open_wizard(qtbot, session)
    seen: list[PageId] = []

    def check(page: StepPage) -> None:
        seen.append(page.page_id)
        assert page.title().startswith(("Step", "Done"))
        assert session.step_code == page.step_code
        wizard = page.wizard()
        assert isinstance(wizard, RenewalWizard)
        if page.page_id in wizard.steps.rows:  # the list at the left marks where we are
            assert wizard.steps.states[page.page_id] is StepState.CURRENT
        if isinstance(page, AdminPage):
            assert page.status.mood is Mood.OK
            assert "No administrator rights are needed" in page.status.text.text()
            assert not page.restart.isVisible()
        elif isinstance(page, VersionPage):
            assert session.release is not None
            assert session.release.verdict == "fine"
            assert page.status.text.text() == (
                f"You have the newest version of this program ({__version__})."
            )
            assert not page.errors.isVisible()
        elif isinstance(page, LogonPage):
            assert not page.renew.isVisible()  # nothing installed yet: the PIN is the way
            assert not next_enabled(walker)
        elif isinstance(page, OverviewPage):
            assert page.facts["Name"].text() == "Dr Whole Walk"
            assert page.facts["EPOC number"].text() == epoc
            assert page.account_none.isVisible()
            assert page.nextId() == PageId.TERMS
        elif isinstance(page, TermsPage):
            assert page.version.text() == "Version 1"
            assert "Acceptable Use Policy" in page.heading.text()
        elif isinstance(page, BackupPage) and page.form.isVisible():
            form = page.form
            assert form.format_buttons[BackupFormat.LEGACY].isChecked()
            assert "Works on all Windows and Mac" in form.format_buttons[BackupFormat.LEGACY].text()
            assert form.ready()
            assert {form.checklist.mood(key) for key in form.checklist.lines} == {Mood.OK}

    walk_renewal(walker, pin=pin, epoc=epoc, backup=backup, inspect=check)

    assert seen == [
        PageId.ADMIN,
        PageId.VERSION,
        PageId.LOGON,
        PageId.OVERVIEW,
        PageId.TERMS,
        PageId.REQUEST,
        PageId.BACKUP,
        PageId.BACKUP,
        PageId.DONE,
    ]
    # the acceptance is on the server, with the version shown
    assert server.account_row(epoc).terms_accepted_version == "1"
    # installed in the store, and the status service sees it
    result = session.result
    assert result is not None
    assert [c.fingerprint for c in installed(session)] == [result.installed.fingerprint]
    [status] = session.app.status.certificates(epoc)
    assert status.state is CertState.VALID
    assert status.fingerprint == result.installed.fingerprint
    assert session.app.status.installed_epoc() == epoc
    assert session.app.status.current(epoc) is not None
    # the backup opens with its password and holds the same certificate
    assert session.backup is not None
    assert session.backup.path == backup.path
    assert session.backup.format is BackupFormat.LEGACY
    opened = pkcs12.open_(backup.path.read_bytes(), backup.password.encode())
    assert opened.certificate == result.identity.certificate
    assert opened.certificate.public_key() == opened.key.public_key()
    # Done: the notice and the backup's location
    done = walker.wizard.currentPage()
    assert isinstance(done, DonePage)
    assert done.notices.isVisible()
    assert "PCR and PCRUA" in done.notice_text.text()
    assert "30 to 40 minutes" in done.notice_text.text()
    assert done.backup_path.full_text == str(backup.path)
    assert done.summary.mood("backup") is Mood.OK
    assert done.summary.mood("install") is Mood.OK
    assert "02045\u00a0836\u00a0906" in done.helpdesks.text()
    assert session.last_error is None
    walker.click(walker.wizard.button(QWizard.WizardButton.FinishButton))
    assert walker.wizard.result() == QWizard.DialogCode.Accepted


# --- 2. renewing with the current certificate ------------------------------------------------


def test_renewal_with_the_current_certificate_needs_no_pin_and_replaces_it(
    qtbot: QtBot, server: Harness, session_for: SessionFor
) -> None:
    publish(server, 1, __version__, __version__)
    session = keyed(server, session_for)
    epoc = server.add_account(name="Dr Second Year")
    first = session.app.renewal.renew(
        RenewalRequest(epoc, credentials=PinCredentials(epoc, SecretStr(server.issue_pin(epoc))))
    )
    old = first.installed.fingerprint
    assert [c.fingerprint for c in installed(session)] == [old]
    walker = open_wizard(qtbot, session)

    def check(page: StepPage) -> None:
        if isinstance(page, LogonPage):
            assert page.epoc.text() == epoc  # from the installed certificate
            assert page.renew.isVisible()
            assert page.renew_note.isVisible()
            assert page.pin.text() == ""

    walk_renewal(walker, pin=None, inspect=check)

    assert session.credentials is None
    assert session.identity is not None
    result = session.result
    assert result is not None
    new = result.installed.fingerprint
    assert new != old
    assert [c.fingerprint for c in installed(session)] == [new]
    assert [c.fingerprint for c in result.removed] == [old]
    [status] = session.app.status.certificates(epoc)
    assert status.fingerprint == new
    done = walker.wizard.currentPage()
    assert isinstance(done, DonePage)
    assert done.summary.lines["old"].text.text() == (
        "The old certificate was removed from this computer."
    )
    assert done.summary.lines["backup"].text.text().startswith("No backup was made.")


# --- 3. failures through the wizard ----------------------------------------------------------


def wrong_pin_over_http(server: Harness, epoc: str) -> None:
    with server.http() as http:
        reply = http.get(server.url + API + "account", auth=(epoc, "WRONG-PIN-0000"), timeout=30)
    assert reply.status_code in {401, 403}


def wrong(server: Harness, epoc: str) -> str:
    server.issue_pin(epoc)
    return "WRONG-PIN-0000"


def superseded(server: Harness, epoc: str) -> str:
    old = server.issue_pin(epoc)
    server.issue_pin(epoc)
    return old


def locked(server: Harness, epoc: str) -> str:
    pin = server.issue_pin(epoc)
    for _ in range(5):
        wrong_pin_over_http(server, epoc)
    return pin


@pytest.mark.parametrize(
    ("prepare", "code", "words"),
    [
        (wrong, ErrorCode.AUTH_INVALID, "4 tries left"),
        (superseded, ErrorCode.PIN_SUPERSEDED, "most recent PIN letter"),
        (locked, ErrorCode.ACCOUNT_LOCKED, "ePractitioner helpdesk: 02045 836 906"),
    ],
    ids=["wrong-pin", "superseded-pin", "locked-account"],
)
def test_refused_logons_are_explained_on_r3(
    qtbot: QtBot,
    server: Harness,
    session_for: SessionFor,
    prepare: Callable[[Harness, str], str],
    code: ErrorCode,
    words: str,
) -> None:
    publish(server, 1, __version__, __version__)
    session = keyed(server, session_for, helpdesks=[HELPDESK])
    epoc = server.add_account()
    pin = prepare(server, epoc)
    walker = open_wizard(qtbot, session)
    page = walk_to_logon(walker)
    walker.type_into(page.epoc, epoc)
    walker.type_into(page.pin, pin)
    walker.click(page.log_on_button)
    qtbot.waitUntil(lambda: page.errors.isVisible() and not page.busy, timeout=WAIT_MS)

    assert page.errors.error is not None
    assert page.errors.error.code is code
    assert f"Error code: {code.value}" in page.errors.facts.text()
    assert "Reference:" in page.errors.facts.text()
    assert words in page.errors.advice.text()
    assert not page.errors.retry.isVisible()  # the same PIN again cannot help
    assert page.pin.text() == ""
    assert walker.wizard.currentId() == PageId.LOGON
    assert not next_enabled(walker)
    assert session.account is None
    assert pin not in session.support_details()
    assert code.value in session.support_details()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_unreachable_service_at_r2_is_diagnosed_with_try_again(
    qtbot: QtBot, server: Harness, session_for: SessionFor
) -> None:
    url = f"https://127.0.0.1:{closed_port()}"
    session = keyed(server, session_for, server_url=url)
    walker = open_wizard(qtbot, session)
    page = walk_to_version(walker)
    assert page.errors.isVisible()
    assert page.errors.error is not None
    assert page.errors.error.code is ErrorCode.NETWORK_CONNECT
    assert "Error code: ECMT-NETWORK-CONNECT" in page.errors.facts.text()
    assert url in page.errors.advice.text()
    assert "Traceback" not in page.errors.advice.text()
    assert page.errors.retry.isVisible()
    assert page.errors.retry.accessibleName() == "Try again"
    assert page.status.mood is Mood.PROBLEM
    assert not next_enabled(walker)
    first = page.errors.error
    walker.click(page.errors.retry)
    qtbot.waitUntil(lambda: page.errors.error not in (None, first), timeout=WAIT_MS)
    assert page.errors.error is not None
    assert page.errors.error.code is ErrorCode.NETWORK_CONNECT
    assert not next_enabled(walker)


def test_a_client_below_the_minimum_version_is_blocked_at_r2(
    qtbot: QtBot, server: Harness, session_for: SessionFor
) -> None:
    publish(server, 1, "999.0.0", "999.0.0")
    session = keyed(server, session_for)
    walker = open_wizard(qtbot, session)
    page = walk_to_version(walker)
    assert session.release is not None
    assert session.release.verdict == "block"
    assert page.status.mood is Mood.PROBLEM
    assert "too old" in page.status.text.text()
    assert page.download.isVisible()
    assert page.download.accessibleName() == "Open download page"
    assert page.address.text() == "https://example.invalid/install.html"
    assert not page.isComplete()
    assert not next_enabled(walker)
    assert session.last_error is not None
    assert session.last_error.code is ErrorCode.RELEASE_BLOCKED


def test_a_newer_optional_version_is_offered_and_the_walk_goes_on(
    qtbot: QtBot, server: Harness, session_for: SessionFor
) -> None:
    publish(server, 1, "999.0.0", __version__)
    session = keyed(server, session_for)
    walker = open_wizard(qtbot, session)
    page = walk_to_version(walker)
    assert session.release is not None
    assert session.release.verdict == "offer"
    assert "A newer version, 999.0.0, is available" in page.status.text.text()
    assert page.download.isVisible()
    assert not page.errors.isVisible()
    qtbot.waitUntil(lambda: next_enabled(walker), timeout=WAIT_MS)
    walker.next()
    walker.arrive(PageId.LOGON)
