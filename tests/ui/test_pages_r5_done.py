"""Steps R-5 (terms), R-6 (request), R-7 (backup) and Done, against the real reference server."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
    QWizard,
)
from pytestqt.qtbot import QtBot

from ecmt import pkcs12
from ecmt.domain.errors import ErrorCode
from ecmt.domain.models import BackupFormat, Profile, RenewalStage
from ecmt.services.renewal import RenewalRequest
from ecmt.ui.backup_form import MATCH, BackupForm
from ecmt.ui.pages.backup import BackupPage
from ecmt.ui.pages.base import PageId, StepPage
from ecmt.ui.pages.done import DonePage
from ecmt.ui.pages.request import RequestPage
from ecmt.ui.pages.terms import TermsPage
from ecmt.ui.session import WizardSession
from ecmt.ui.widgets import Mood
from ecmt.ui.wizard import RenewalWizard
from support import Harness

WAIT = 60_000
DEFAULTS = tomllib.loads(resources.files("ecmt").joinpath("resources/defaults.toml").read_text())


def log_on(server: Harness, session: WizardSession, accept_terms: bool = True) -> str:
    """What step R-3 leaves behind: credentials, the account and the current terms."""
    epoc = server.add_account(accept_terms=accept_terms)
    app = session.app
    credentials = app.logon.credentials(epoc, SecretStr(server.issue_pin(epoc)))
    session.account = app.logon.logon(credentials)
    session.credentials = credentials
    session.terms = app.terms.current()
    return epoc


def renew(server: Harness, session: WizardSession) -> str:
    """What step R-6 leaves behind: an installed certificate in `session.result`."""
    epoc = log_on(server, session)
    request = RenewalRequest(epoc, credentials=session.credentials)
    session.result = session.app.renewal.renew(request)
    return epoc


def open_at(qtbot: QtBot, session: WizardSession, page_id: PageId) -> RenewalWizard:
    wizard = RenewalWizard(session)
    qtbot.addWidget(wizard)
    wizard.setStartId(int(page_id))
    wizard.show()
    return wizard


def installed(session: WizardSession) -> list[Any]:
    return session.app.store.list(Profile())


def mnemonic(text: str) -> str | None:
    index = text.replace("&&", "").find("&")
    return text.replace("&&", "")[index + 1].lower() if index >= 0 else None


def assert_accessible(page: StepPage) -> None:
    """Every control a keyboard reaches has a name; every mnemonic label has a buddy; no
    two visible mnemonics (the wizard's buttons included) share a letter."""
    keys: list[str] = []
    wizard_buttons = [page.wizard().button(QWizard.WizardButton(i)) for i in range(7)]
    wizard_buttons = [button for button in wizard_buttons if button.isVisible()]
    for widget in [*page.findChildren(QWidget), *wizard_buttons]:
        reachable = widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        if reachable and isinstance(widget, QAbstractButton | QLineEdit | QAbstractScrollArea):
            assert widget.accessibleName(), widget
        if isinstance(widget, QLabel) and mnemonic(widget.text()):
            assert widget.buddy() is not None, widget.text()
        if isinstance(widget, QAbstractButton | QLabel) and widget.isVisible():
            key = mnemonic(widget.text())
            if key:
                keys.append(key)
    assert keys
    assert len(keys) == len(set(keys)), sorted(keys)


# --- R-5 terms ---------------------------------------------------------------------------


def test_terms_are_shown_and_acceptance_is_recorded(
    qtbot: QtBot, server: Harness, session: WizardSession
) -> None:
    epoc = log_on(server, session, accept_terms=False)
    assert session.terms is not None
    wizard = open_at(qtbot, session, PageId.TERMS)
    page = wizard.page_of(PageId.TERMS)
    assert isinstance(page, TermsPage)
    assert page.title() == "Step 5 of 7 · R-5: Terms of use"
    assert page.text.toPlainText().split() == session.terms.text.split()  # reflowed only
    assert "NHS Scotland's clinical systems" in page.text.toPlainText()
    assert page.heading.text() == "Acceptable Use Policy"
    assert page.version.text() == "Version 1"
    assert page.text.focusPolicy() == Qt.FocusPolicy.StrongFocus
    assert not page.isComplete()
    assert_accessible(page)

    qtbot.mouseClick(page.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.REQUEST, timeout=WAIT)
    assert server.account_row(epoc).terms_accepted_version == "1"
    assert session.account is not None
    assert not session.needs_terms()
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.BACKUP, timeout=WAIT)  # renewed


def test_terms_with_control_characters_are_shown_without_them(
    qtbot: QtBot, server: Harness, session: WizardSession
) -> None:
    """Terms text comes from the server: escape sequences and bells never reach the
    screen, while the words stay (what is accepted is the server's version and hash)."""
    server.admin.publish_terms(
        "2", "Policy\x1b[31m red", "1. Be \x07kind.\x1b]0;owned\x07\n2. Ok.\n"
    )
    log_on(server, session, accept_terms=False)
    wizard = open_at(qtbot, session, PageId.TERMS)
    page = wizard.page_of(PageId.TERMS)
    assert isinstance(page, TermsPage)
    shown = page.text.toPlainText() + page.heading.text()
    assert "\x1b" not in shown
    assert "\x07" not in shown
    assert "owned" not in shown
    assert "1. Be kind." in page.text.toPlainText()
    assert page.heading.text().startswith("Policy")


def test_terms_are_fetched_when_missing(
    qtbot: QtBot, server: Harness, session: WizardSession
) -> None:
    log_on(server, session, accept_terms=False)
    session.terms = None
    wizard = open_at(qtbot, session, PageId.TERMS)
    page = wizard.page_of(PageId.TERMS)
    assert isinstance(page, TermsPage)
    qtbot.waitUntil(lambda: page.accept_button.isEnabled(), timeout=WAIT)
    assert "Acceptable Use Policy" in page.text.toPlainText()
    assert session.terms is not None
    assert session.terms.version == "1"


def test_terms_that_changed_meanwhile_are_shown_to_accept_again(
    qtbot: QtBot, server: Harness, session: WizardSession
) -> None:
    epoc = log_on(server, session, accept_terms=False)
    assert session.terms is not None
    server.admin.publish_terms("2", "Acceptable Use Policy", session.terms.text + "\n7. New.\n")
    wizard = open_at(qtbot, session, PageId.TERMS)
    page = wizard.page_of(PageId.TERMS)
    assert isinstance(page, TermsPage)
    assert page.version.text() == "Version 1"

    page.accept_button.click()
    qtbot.waitUntil(lambda: page.version.text() == "Version 2", timeout=WAIT)
    assert "changed while you were reading" in page.status.text.text()
    assert page.status.mood is Mood.WARNING
    assert "7. New." in page.text.toPlainText()
    assert not page.errors.isVisible()
    assert not page.isComplete()
    assert wizard.currentId() == PageId.TERMS
    assert server.account_row(epoc).terms_accepted_version is None

    page.accept_button.click()
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.REQUEST, timeout=WAIT)
    assert server.account_row(epoc).terms_accepted_version == "2"
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.BACKUP, timeout=WAIT)


# --- R-6 request and download ------------------------------------------------------------


def request_page(wizard: RenewalWizard) -> RequestPage:
    page = wizard.page_of(PageId.REQUEST)
    assert isinstance(page, RequestPage)
    return page


def test_request_runs_every_stage_and_installs(
    qtbot: QtBot, server: Harness, session: WizardSession
) -> None:
    log_on(server, session)
    wizard = open_at(qtbot, session, PageId.REQUEST)
    page = request_page(wizard)
    assert page.stop_button.isEnabled()  # nothing has been sent yet
    assert_accessible(page)
    seen: list[tuple[RenewalStage, bool]] = []
    assert page.task is not None
    page.task.signals.progress.connect(lambda u: seen.append((u[0], page.stop_button.isEnabled())))

    qtbot.waitUntil(lambda: wizard.currentId() == PageId.BACKUP, timeout=WAIT)
    # connected after the start, so "generating key" may have been reported already
    stages = [stage for stage, _ in seen if stage is not RenewalStage.GENERATING_KEY]
    assert stages == [
        RenewalStage.SENDING_REQUEST,
        RenewalStage.DOWNLOADING,
        RenewalStage.CHECKING,
        RenewalStage.INSTALLING,
        RenewalStage.VERIFYING,
    ]
    assert all(enabled is (stage is RenewalStage.GENERATING_KEY) for stage, enabled in seen)
    assert all(page.stages.mood(s.value) is Mood.OK for s in RenewalStage)
    assert "not needed" in page.stages.lines[RenewalStage.WAITING_FOR_APPROVAL.value].text.text()
    assert session.result is not None
    assert [c.fingerprint for c in installed(session)] == [session.result.installed.fingerprint]
    assert session.app.ca_cache.exists()  # the CA chain was remembered
    assert not wizard.button(QWizard.WizardButton.BackButton).isEnabled()


def waiting_wizard(
    qtbot: QtBot, server: Harness, session: WizardSession
) -> tuple[RenewalWizard, RequestPage]:
    """Logged on, at R-6, with the request waiting for approval (the server asks for it)."""
    log_on(server, session)
    wizard = open_at(qtbot, session, PageId.REQUEST)
    page = request_page(wizard)
    waiting = page.stages.lines[RenewalStage.WAITING_FOR_APPROVAL.value]
    qtbot.waitUntil(lambda: waiting.mood is Mood.WORKING, timeout=WAIT)
    return wizard, page


def test_request_waits_for_approval_visibly(
    qtbot: QtBot,
    server_factory: Callable[..., Harness],
    session_for: Callable[..., WizardSession],
) -> None:
    server = server_factory(enroll_requires_approval=True, approval_retry_after_seconds=1)
    session = session_for(server)
    wizard, page = waiting_wizard(qtbot, server, session)
    waiting = page.stages.lines[RenewalStage.WAITING_FOR_APPROVAL.value]
    assert "asking again in 1 s" in waiting.text.text()
    assert page.stop_button.isEnabled()
    assert "waiting" in page.stop_button.text()
    assert "kept" in page.stop_note.text()

    (pending,) = server.admin.list_requests("pending")
    server.admin.approve_request(int(str(pending["id"])))
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.BACKUP, timeout=WAIT)
    assert "not needed" not in waiting.text.text()
    assert waiting.mood is Mood.OK
    assert installed(session)


def test_stop_while_waiting_keeps_the_request_for_try_again(
    qtbot: QtBot,
    server_factory: Callable[..., Harness],
    session_for: Callable[..., WizardSession],
) -> None:
    server = server_factory(enroll_requires_approval=True, approval_retry_after_seconds=1)
    session = session_for(server)
    wizard, page = waiting_wizard(qtbot, server, session)
    waiting = page.stages.lines[RenewalStage.WAITING_FOR_APPROVAL.value]
    page.stop_button.click()
    qtbot.waitUntil(lambda: page.errors.isVisible(), timeout=WAIT)
    assert page.errors.error is not None
    assert page.errors.error.code is ErrorCode.CANCELLED
    assert waiting.mood is Mood.PROBLEM
    assert "Waiting for approval" in page.errors.advice.text()
    assert "kept" in page.errors.advice.text()

    (pending,) = server.admin.list_requests("pending")
    server.admin.approve_request(int(str(pending["id"])))
    page.errors.retry.click()
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.BACKUP, timeout=WAIT)
    assert session.result is not None
    assert session.result.recovered


def test_stop_before_sending_changes_nothing(
    qtbot: QtBot, server: Harness, session: WizardSession
) -> None:
    log_on(server, session)
    wizard = open_at(qtbot, session, PageId.REQUEST)
    page = request_page(wizard)
    page.stop_button.click()  # before the event loop ran: the request is not sent yet
    assert not page.stop_button.isEnabled()
    qtbot.waitUntil(lambda: page.errors.isVisible(), timeout=WAIT)
    assert page.errors.error is not None
    assert page.errors.error.code is ErrorCode.CANCELLED
    assert page.stages.mood(RenewalStage.GENERATING_KEY.value) is Mood.PROBLEM
    assert server.admin.list_requests(None) == []
    assert installed(session) == []

    page.errors.retry.click()
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.BACKUP, timeout=WAIT)


def test_request_failure_names_its_stage(
    qtbot: QtBot, server: Harness, session: WizardSession
) -> None:
    log_on(server, session, accept_terms=False)
    wizard = open_at(qtbot, session, PageId.TERMS)
    wizard.page_of(PageId.TERMS).complete = True  # skip accepting, so the server refuses
    wizard.next()
    page = request_page(wizard)
    back = wizard.button(QWizard.WizardButton.BackButton)
    held: list[bool] = []
    assert page.task is not None

    def on_progress(update: tuple[RenewalStage, str | None]) -> None:
        if update[0] is RenewalStage.SENDING_REQUEST:
            held.append(back.isEnabled())

    page.task.signals.progress.connect(on_progress)
    qtbot.waitUntil(lambda: page.errors.isVisible(), timeout=WAIT)
    assert held == [False]  # no Back while the request runs
    assert page.errors.error is not None
    assert page.errors.error.code is ErrorCode.TERMS_REQUIRED
    assert "ECMT-TERMS-REQUIRED" in page.errors.facts.text()
    assert "Sending request" in page.errors.advice.text()
    assert page.stages.mood(RenewalStage.SENDING_REQUEST.value) is Mood.PROBLEM
    assert page.stages.mood(RenewalStage.GENERATING_KEY.value) is Mood.OK
    assert page.errors.retry.isVisible()
    assert not page.isComplete()
    assert back.isEnabled()  # and back again after the failure
    assert installed(session) == []
    assert session.result is None


# --- R-7 backup --------------------------------------------------------------------------


def backup_page(wizard: RenewalWizard) -> BackupPage:
    page = wizard.page_of(PageId.BACKUP)
    assert isinstance(page, BackupPage)
    return page


def type_passwords(qtbot: QtBot, form: BackupForm, password: str, again: str) -> None:
    form.password.clear()
    form.again.clear()
    qtbot.keyClicks(form.password, password)
    qtbot.keyClicks(form.again, again)


def test_the_page_opens_with_where_the_certificate_went(
    qtbot: QtBot, server: Harness, session: WizardSession
) -> None:
    renew(server, session)
    wizard = open_at(qtbot, session, PageId.BACKUP)
    page = backup_page(wizard)
    assert page.installed.mood is Mood.OK
    assert page.installed.text.text().startswith(
        f"Your new certificate is installed in {session.app.store_name}. It is valid until "
    )
    # closing cannot undo the renewal: the button says Close, not Cancel
    cancel = wizard.button(QWizard.WizardButton.CancelButton)
    assert cancel.text().replace("&", "") == "Close"
    assert cancel.accessibleName() == "Close"


def test_password_checklist_is_live(qtbot: QtBot, server: Harness, session: WizardSession) -> None:
    renew(server, session)
    wizard = open_at(qtbot, session, PageId.BACKUP)
    page = backup_page(wizard)
    form = page.form
    assert not form.isVisible()
    assert not page.isComplete()
    page.yes.click()
    assert form.isVisible()
    assert page.isComplete()  # Next makes the backup, or says what is missing
    assert form.password.echoMode() == QLineEdit.EchoMode.Password
    assert form.again.echoMode() == QLineEdit.EchoMode.Password
    assert_accessible(page)

    def moods() -> dict[str, Mood]:
        return {key: form.checklist.mood(key) for key in form.checklist.lines}

    type_passwords(qtbot, form, "abcdefgh", "")
    ok, bad = Mood.OK, Mood.WAITING
    assert moods() == {"length": ok, "upper": bad, "lower": ok, "digit": bad, MATCH: bad}
    assert not form.ready()
    type_passwords(qtbot, form, "Abcdefg1", "Abcdefg2")
    assert moods() == {"length": ok, "upper": ok, "lower": ok, "digit": ok, MATCH: bad}
    assert not form.ready()
    qtbot.keyClick(form.again, Qt.Key.Key_Backspace)
    qtbot.keyClicks(form.again, "1")
    assert set(moods().values()) == {ok}
    assert form.ready()


def test_show_the_password_reveals_both_fields(
    qtbot: QtBot, server: Harness, session: WizardSession
) -> None:
    renew(server, session)
    page = backup_page(open_at(qtbot, session, PageId.BACKUP))
    page.yes.click()
    page.form.show_password.click()
    assert page.form.password.echoMode() == QLineEdit.EchoMode.Normal
    assert page.form.again.echoMode() == QLineEdit.EchoMode.Normal
    page.form.show_password.click()
    assert page.form.password.echoMode() == QLineEdit.EchoMode.Password


def test_next_with_a_weak_password_says_what_is_missing(
    qtbot: QtBot, server: Harness, session: WizardSession
) -> None:
    """Enter or Next with a password that fails a rule: no silent nothing, and no backup."""
    renew(server, session)
    wizard = open_at(qtbot, session, PageId.BACKUP)
    page = backup_page(wizard)
    page.yes.click()
    type_passwords(qtbot, page.form, "surgery2", "surgery2")
    qtbot.keyClick(page.form.again, Qt.Key.Key_Return)  # Enter presses Next
    assert wizard.currentId() == PageId.BACKUP
    assert page.form.missing_line.isVisible()
    assert page.form.missing_line.mood is Mood.WARNING
    assert "an upper-case letter" in page.form.missing_line.text.text()
    assert wizard.focusWidget() is page.form.password  # where the first gap can be fixed
    assert session.backup is None


def test_default_folder_and_file_name(
    qtbot: QtBot, server: Harness, session_for: Callable[..., WizardSession], tmp_path: Path
) -> None:
    session = session_for(server, backup_folder=tmp_path / "advised", backup_format="modern")
    epoc = renew(server, session)
    wizard = open_at(qtbot, session, PageId.BACKUP)
    backup_page(wizard).yes.click()
    form = backup_page(wizard).form
    assert form.folder.text() == str(tmp_path / "advised")
    assert form.file_name.text().startswith(f"ePractitioner-{epoc}-20")
    assert form.file_name.text().endswith(".p12")
    assert form.format_buttons[BackupFormat.MODERN].isChecked()
    assert not form.options.isVisible()  # the format waits under "More options"
    form.more.click()
    assert form.options.isVisible()
    assert "Board" not in " ".join(w.text() for w in form.findChildren(QLabel))


def test_choose_opens_in_a_folder_that_exists(
    qtbot: QtBot, server: Harness, session_for: Callable[..., WizardSession], tmp_path: Path
) -> None:
    session = session_for(server, backup_folder=tmp_path / "not" / "made" / "yet")
    renew(server, session)
    form = backup_page(open_at(qtbot, session, PageId.BACKUP)).form
    form.choose.click()
    assert form.folder_dialog is not None
    assert Path(form.folder_dialog.directory().absolutePath()) == tmp_path
    form.folder_dialog.reject()


@pytest.mark.parametrize("fmt", list(BackupFormat))
def test_next_makes_the_backup_then_moves_on(
    qtbot: QtBot, server: Harness, session: WizardSession, tmp_path: Path, fmt: BackupFormat
) -> None:
    renew(server, session)
    wizard = open_at(qtbot, session, PageId.BACKUP)
    page = backup_page(wizard)
    form = page.form
    page.yes.click()
    form.folder.setText(str(tmp_path / "backups"))
    form.file_name.setText("mine.p12")
    form.more.click()
    form.format_buttons[fmt].click()
    type_passwords(qtbot, form, "Correct1horse", "Correct1horse")
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.DONE, timeout=WAIT)

    assert session.backup is not None
    assert session.result is not None
    path = tmp_path / "backups" / "mine.p12"
    assert session.backup.path == path
    assert session.backup.format is fmt
    opened = pkcs12.open_(path.read_bytes(), b"Correct1horse")
    assert opened.certificate == session.result.identity.certificate
    assert form.password.text() == ""
    assert form.again.text() == ""
    done = wizard.page_of(PageId.DONE)
    assert isinstance(done, DonePage)
    assert done.summary.mood("backup") is Mood.OK
    assert done.backup_path.full_text == str(path)
    assert done.backup_path.toolTip() == str(path)


def test_existing_file_is_replaced_only_after_yes(
    qtbot: QtBot, server: Harness, session: WizardSession, tmp_path: Path
) -> None:
    renew(server, session)
    wizard = open_at(qtbot, session, PageId.BACKUP)
    page = backup_page(wizard)
    form = page.form
    existing = tmp_path / "mine.p12"
    existing.write_bytes(b"an older backup")
    page.yes.click()
    form.folder.setText(str(tmp_path))
    form.file_name.setText("mine.p12")
    type_passwords(qtbot, form, "Correct1horse", "Correct1horse")

    def ask() -> QMessageBox:
        wizard.next()
        qtbot.waitUntil(lambda: form.replace_box is not None, timeout=WAIT)
        assert form.replace_box is not None
        assert form.replace_box.isVisible()
        assert "Replace it" in form.replace_box.informativeText()
        assert not form.ready()
        return form.replace_box

    ask().button(QMessageBox.StandardButton.No).click()
    assert form.replace_box is None
    assert form.ready()
    assert existing.read_bytes() == b"an older backup"
    assert session.backup is None
    assert not form.errors.isVisible()
    assert wizard.currentId() == PageId.BACKUP

    ask().button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: session.backup is not None, timeout=WAIT)
    assert pkcs12.open_(existing.read_bytes(), b"Correct1horse").friendly_name


def test_no_backup_completes_at_once(qtbot: QtBot, server: Harness, session: WizardSession) -> None:
    renew(server, session)
    wizard = open_at(qtbot, session, PageId.BACKUP)
    page = backup_page(wizard)
    page.no.click()
    assert page.isComplete()
    assert not page.form.isVisible()
    wizard.next()
    done = wizard.page_of(PageId.DONE)
    assert isinstance(done, DonePage)
    assert done.summary.mood("backup") is Mood.WARNING
    assert "You can make one later" in done.summary.lines["backup"].text.text()
    assert "Back up…" in done.summary.lines["backup"].text.text()
    assert not done.backup_path.isVisible()


# --- Done --------------------------------------------------------------------------------


def test_done_page_confirms_and_shows_the_notice(
    qtbot: QtBot, server: Harness, session_for: Callable[..., WizardSession]
) -> None:
    session = session_for(server, notices=DEFAULTS["notices"], helpdesks=DEFAULTS["helpdesks"])
    renew(server, session)
    wizard = open_at(qtbot, session, PageId.DONE)
    page = wizard.page_of(PageId.DONE)
    assert isinstance(page, DonePage)
    assert page.title() == "Done: all seven steps are complete"
    assert page.isComplete()
    assert session.result is not None
    install = page.summary.lines["install"]
    assert session.app.store_name in install.text.text()
    assert "valid until" in install.text.text()
    assert install.toolTip() == session.result.installed.location  # the path, for IT
    assert page.summary.mood("download") is Mood.OK
    assert "PCR and PCRUA" in page.notice_text.text()
    assert page.notices.isVisible()
    assert "02045\u00a0836\u00a0906" in page.helpdesks.text()  # the number kept whole
    assert page.summary.mood("backup") is Mood.WARNING
    assert_accessible(page)

    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert not wizard.isVisible()
    assert wizard.result() == QWizard.DialogCode.Accepted


def test_done_offers_a_reminder_ticked_and_finish_asks_for_it(
    qtbot: QtBot, server: Harness, session: WizardSession
) -> None:
    renew(server, session)
    wizard = open_at(qtbot, session, PageId.DONE)
    page = wizard.page_of(PageId.DONE)
    assert isinstance(page, DonePage)
    assert page.remind.isVisible()
    assert page.remind.isChecked()  # on unless the user says otherwise
    assert page.remind.accessibleName() == "Remind me before the certificate expires"
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert session.wants_reminder


def test_done_without_the_reminder(qtbot: QtBot, server: Harness, session: WizardSession) -> None:
    renew(server, session)
    wizard = open_at(qtbot, session, PageId.DONE)
    page = wizard.page_of(PageId.DONE)
    assert isinstance(page, DonePage)
    page.remind.click()
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert not session.wants_reminder
