"""The overview window against the real reference server: what it lists, what it says, and
the Details and Back up dialogs, driven through the widgets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from ecmt import __version__, pkcs12
from ecmt.domain.models import BackupFormat, PinCredentials
from ecmt.services.renewal import RenewalRequest, RenewalResult
from ecmt.ui.backup_dialog import BackupDialog
from ecmt.ui.details import DetailsDialog, grouped_fingerprint
from ecmt.ui.overview import COLUMNS, OverviewWindow
from ecmt.ui.session import WizardSession
from ecmt.ui.widgets import Mood

HELPDESKS = [{"name": "ePractitioner helpdesk", "phone": "02045 836 906", "serves": "Renewal"}]
PASSWORD = "Surgery2027"


def install(session: WizardSession, server, name: str = "Dr Overview Test") -> RenewalResult:
    """A real certificate in the session's store, as the wizard would leave it."""
    epoc = server.add_account(name=name)
    credentials = PinCredentials(epoc, SecretStr(server.issue_pin(epoc)))
    return session.app.renewal.renew(RenewalRequest(epoc, credentials=credentials))


@pytest.fixture
def opened() -> list[bool]:
    return []


@pytest.fixture
def make_window(qtbot, opened):
    def make(session: WizardSession) -> OverviewWindow:
        window = OverviewWindow(session, lambda: opened.append(True))
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.loaded and window.task is None, timeout=20_000)
        return window

    return make


def cell(window: OverviewWindow, row: int, column: str) -> str:
    return window.table.item(row, COLUMNS.index(column)).text()


def unnamed_controls(root: QWidget) -> list[str]:
    """Controls a keyboard or screen-reader user can reach that have no accessible name."""
    controls = [*root.findChildren(QAbstractButton), *root.findChildren(QLineEdit)]
    return [
        f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}"
        for w in controls
        if w.isVisible()
        and w.focusPolicy() != Qt.FocusPolicy.NoFocus
        and not w.accessibleName().strip()
    ]


# --- what the window lists ---------------------------------------------------------------


def test_empty_state_says_what_to_do(session, make_window, opened, qtbot):
    window = make_window(session)
    assert window.stack.currentWidget() is window.empty
    assert window.summary.mood is Mood.WARNING
    assert "no ePractitioner certificate" in window.summary.text.text()
    text = window.empty.text()
    assert "choose Renew" in text
    assert "PIN" in text
    assert not window.backup_button.isEnabled()
    assert not window.details_button.isEnabled()
    qtbot.mouseClick(window.renew_button, Qt.MouseButton.LeftButton)
    assert opened == [True]


def test_empty_state_names_the_helpdesk(server, session_for, make_window):
    window = make_window(session_for(server, helpdesks=HELPDESKS))
    assert "02045 836 906" in window.empty.text()


def test_lists_the_installed_certificate_with_days_left(server, session, make_window):
    result = install(session, server)
    status = session.app.status.certificates()[0]
    window = make_window(session)
    assert window.stack.currentWidget() is window.table
    assert window.table.rowCount() == 1
    assert cell(window, 0, "Status") == "✔ Valid"
    assert cell(window, 0, "Name") == "Dr Overview Test"
    assert cell(window, 0, "EPOC") == status.epoc
    assert cell(window, 0, "Days left") == str(status.days_left)
    assert status.days_left >= 360
    assert str(status.not_after.astimezone().year) in cell(window, 0, "Expires")
    assert cell(window, 0, "Installed in") == session.app.store_name  # words, not a path
    installed_in = window.table.item(0, COLUMNS.index("Installed in"))
    assert installed_in.toolTip() == result.installed.location
    assert window.summary.mood is Mood.OK
    assert f"({status.days_left} days left)" in window.summary.text.text()
    assert window.selected() is not None  # the newest is selected, ready for the buttons
    assert window.backup_button.isEnabled()
    assert window.details_button.isEnabled()


def test_a_certificate_near_its_end_says_renewal_due(server_factory, session_for, make_window):
    server = server_factory(cert_validity_days=10)
    session = session_for(server)
    install(session, server)
    window = make_window(session)
    assert cell(window, 0, "Status") == "! Renewal due"
    assert window.summary.mood is Mood.WARNING
    assert "Renew it now" in window.summary.text.text()


def test_refresh_after_the_wizard_shows_the_new_certificate(server, session, make_window, qtbot):
    window = make_window(session)
    assert window.table.rowCount() == 0
    install(session, server)
    window.refresh()  # what main.py does when the wizard finishes
    qtbot.waitUntil(lambda: window.table.rowCount() == 1, timeout=20_000)
    assert window.stack.currentWidget() is window.table


def test_a_store_that_cannot_be_read_shows_the_error_and_try_again(
    server, session, make_window, qtbot
):
    install(session, server)
    session.app.ca_cache.write_text("not a certificate")  # the cached CA names are damaged
    window = make_window(session)
    assert window.errors.isVisible()
    assert window.summary.mood is Mood.PROBLEM
    assert window.errors.error is not None
    assert session.last_error is window.errors.error
    session.app.ca_cache.unlink()
    qtbot.mouseClick(window.errors.retry, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.table.rowCount() == 1, timeout=20_000)
    assert not window.errors.isVisible()


# --- details -----------------------------------------------------------------------------


def test_details_shows_every_fact_and_copies_them(server, session, make_window, qtbot):
    result = install(session, server)
    window = make_window(session)
    qtbot.mouseClick(window.details_button, Qt.MouseButton.LeftButton)
    dialog = window.details_dialog
    assert isinstance(dialog, DetailsDialog)
    assert dialog.isVisible()
    assert not dialog.isModal()
    certificate = result.installed.certificate
    values = {name: shown.text() for name, shown in dialog.values.items()}
    assert values["Fingerprint (SHA-256)"] == grouped_fingerprint(result.installed.fingerprint)
    assert values["Serial number"] == format(certificate.serial_number, "X")
    assert values["Subject"] == f"CN=Dr Overview Test, serialNumber={result.installed.epoc}, " + (
        "OU=GP, O=Test Practice"
    )
    assert values["Issuer"].startswith("CN=")
    assert values["Issuer"].split(", ")[0] == certificate.issuer.rfc4514_string().split(",")[0]
    assert values["Private key present"].startswith("Yes")
    assert values["Installed in"] == (f"{session.app.store_name} ({result.installed.location})")
    assert str(certificate.not_valid_after_utc.astimezone().year) in values["Valid until"]
    assert values["Status"].startswith("✔ Valid")
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert result.installed.fingerprint[:2].upper() in copied
    assert "Installed in: " in copied
    assert unnamed_controls(dialog) == []


def test_enter_on_a_row_opens_its_details(server, session, make_window, qtbot):
    install(session, server)
    window = make_window(session)
    window.table.setFocus()
    window.table.setCurrentCell(0, 0)
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    assert window.details_dialog is not None
    assert window.details_dialog.isVisible()


# --- backup ------------------------------------------------------------------------------


def open_backup(window: OverviewWindow, qtbot, folder: Path) -> BackupDialog:
    qtbot.mouseClick(window.backup_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.backup_dialog is not None, timeout=20_000)
    dialog = window.backup_dialog
    assert dialog is not None
    assert dialog.isVisible()
    dialog.form.folder.clear()
    qtbot.keyClicks(dialog.form.folder, str(folder))
    return dialog


def test_backup_through_the_dialog_ticks_rules_live_then_saves_a_file_that_opens(
    server, session, make_window, qtbot, tmp_path
):
    result = install(session, server)
    window = make_window(session)
    dialog = open_backup(window, qtbot, tmp_path / "backups")
    assert unnamed_controls(dialog) == []

    form = dialog.form
    qtbot.keyClicks(form.password, "surgery2")  # long enough, a digit; no capital
    assert {key: line.mood is Mood.OK for key, line in form.checklist.lines.items()} == {
        "length": True,
        "upper": False,
        "lower": True,
        "digit": True,
        "match": False,
    }
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)  # says what is missing
    assert form.missing_line.isVisible()
    assert "an upper-case letter" in form.missing_line.text.text()
    assert dialog.result_ is None
    form.password.clear()
    qtbot.keyClicks(form.password, PASSWORD)
    qtbot.keyClicks(form.again, PASSWORD)
    assert form.ready()
    assert not form.missing_line.isVisible()
    qtbot.mouseClick(form.more, Qt.MouseButton.LeftButton)
    form.format_buttons[BackupFormat.MODERN].click()

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result_ is not None, timeout=30_000)
    saved = dialog.result_
    assert saved is not None
    assert saved.path.parent == tmp_path / "backups"
    assert saved.path.name == form.file_name.text()
    assert saved.format is BackupFormat.MODERN
    opened = pkcs12.open_(saved.path.read_bytes(), PASSWORD.encode())
    assert opened.certificate == result.installed.certificate
    assert session.backup == saved
    assert form.password.text() == form.again.text() == ""
    assert form.saved_path.full_text == str(saved.path)
    assert form.done_line.mood is Mood.OK
    assert not dialog.save_button.isVisible()


def test_an_existing_backup_is_replaced_only_after_yes(
    server, session, make_window, qtbot, tmp_path
):
    install(session, server)
    window = make_window(session)
    folder = tmp_path / "backups"
    folder.mkdir()
    dialog = open_backup(window, qtbot, folder)
    form = dialog.form
    existing = folder / form.file_name.text()
    existing.write_bytes(b"an older backup")
    qtbot.keyClicks(form.password, PASSWORD)
    qtbot.keyClicks(form.again, PASSWORD)

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.replace_box is not None, timeout=30_000)
    box = form.replace_box
    assert isinstance(box, QMessageBox)
    assert not form.ready()  # one question at a time
    box.button(QMessageBox.StandardButton.No).click()
    assert form.replace_box is None
    assert existing.read_bytes() == b"an older backup"
    assert dialog.result_ is None

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.replace_box is not None, timeout=30_000)
    form.replace_box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: dialog.result_ is not None, timeout=30_000)
    assert pkcs12.open_(existing.read_bytes(), PASSWORD.encode()).certificate is not None


# --- help, support details, menus, accessibility -----------------------------------------


def test_help_about_and_support_details(server, session_for, make_window, qtbot):
    session = session_for(server, helpdesks=HELPDESKS)
    window = make_window(session)
    qtbot.mouseClick(window.help_button, Qt.MouseButton.LeftButton)
    box = window.message_box
    assert box is not None
    assert box.isVisible()
    assert not box.isModal()
    assert "02045\u00a0836\u00a0906" in box.informativeText()  # the number kept whole
    window.about_action.trigger()
    assert window.message_box is not None
    assert __version__ in window.message_box.text()
    qtbot.mouseClick(window.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert copied == session.support_details()
    window.copy_action.trigger()
    assert QGuiApplication.clipboard().text() == session.support_details()


def test_menus_mnemonics_and_accessible_names(session, make_window):
    window = make_window(session)
    menus = [action.text() for action in window.menuBar().actions()]
    assert menus == ["&File", "&Help"]
    items = {
        action.text() for menu in window.menuBar().actions() for action in menu.menu().actions()
    }
    assert {"&Quit", "&Helpdesk numbers", "&Copy support details", "&About"} <= items
    assert unnamed_controls(window) == []
    assert window.table.accessibleName()
    buttons = [
        window.renew_button,
        window.backup_button,
        window.details_button,
        window.help_button,
        window.copy_button,
    ]
    keys = [b.text()[b.text().index("&") + 1].lower() for b in buttons]
    assert len(set(keys)) == len(keys)  # one mnemonic each, no clashes
    assert not {"f", "h"} & set(keys)  # nor with the menu bar


def test_status_is_in_words_and_symbols_not_colour_alone(server_factory, session_for, make_window):
    server = server_factory(cert_validity_days=10)
    session = session_for(server)
    install(session, server)
    window = make_window(session)
    status = window.table.item(0, 0)
    assert status.text().startswith("!")
    assert status.data(Qt.ItemDataRole.AccessibleTextRole) == "Renewal due"


def test_demo_letter_is_shown_when_set(session, make_window):
    session.demo_note = "EPOC number:\n8123456\n\nPIN:\nK7QM-4X9R-T3HP"
    window = make_window(session)
    assert window.demo_letter is not None
    assert window.demo_letter.isVisible()
    texts = [w.text() for w in window.demo_letter.findChildren(QLabel)]
    assert session.demo_note in texts


def test_nothing_is_clipped_at_twice_the_font_size(server, session, make_window, qtbot):
    install(session, server)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    font = app.font()
    bigger = app.font()
    bigger.setPointSizeF(font.pointSizeF() * 2)
    app.setFont(bigger)
    try:
        window = make_window(session)
        window.resize(800, 600)
        qtbot.waitUntil(lambda: window.summary.text.height() > 0)
        for _ in range(3):
            QApplication.processEvents()
        clipped = [
            w.text()
            for w in window.findChildren(QLabel)
            if w.isVisible() and w.wordWrap() and w.height() < w.heightForWidth(w.width())
        ]
        assert clipped == []
        for button in window.findChildren(QAbstractButton):
            if button.isVisible():
                assert button.width() >= button.sizeHint().width(), button.text()
    finally:
        app.setFont(font)


def test_keyboard_tab_leaves_the_table_for_the_buttons(server, session, make_window, qtbot):
    install(session, server)
    window = make_window(session)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.waitUntil(window.reminder_row.box.isEnabled, timeout=20_000)
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Tab)  # in reading order: the reminder box, Renew
    assert QApplication.focusWidget() is window.reminder_row.box
    qtbot.keyClick(window.reminder_row.box, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is window.renew_button


# --- reminders ---------------------------------------------------------------------------


def test_the_reminder_box_turns_the_daily_check_on_and_off(
    server, session, make_window, qtbot, scheduler
):
    window = make_window(session)
    qtbot.waitUntil(lambda: window.reminder_row.box.isEnabled(), timeout=20_000)
    assert window.reminder_row.isVisible()
    assert not window.reminder_row.box.isChecked()
    qtbot.mouseClick(window.reminder_row.box, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: window.reminder_row.box.isEnabled() and bool(scheduler.jobs), timeout=20_000
    )
    (job,) = scheduler.jobs
    assert job.command[-2:] == ("remind", "run")
    assert window.reminder_row.status.text() == "A daily check is set up."
    assert "Reminders are on" in window.statusBar().currentMessage()
    qtbot.mouseClick(window.reminder_row.box, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: window.reminder_row.box.isEnabled() and not scheduler.jobs, timeout=20_000
    )
    assert window.reminder_row.status.text() == "No reminders: the daily check is off."


def test_without_a_scheduler_the_box_says_so_quietly(
    server, session, make_window, qtbot, scheduler
):
    from ecmt.domain.errors import EcmtError, ErrorCode

    scheduler.refuse = EcmtError(ErrorCode.SCHEDULER_UNAVAILABLE, "no systemd, no cron")
    window = make_window(session)
    qtbot.waitUntil(lambda: bool(window.reminder_row.status.text()), timeout=20_000)
    assert not window.reminder_row.box.isEnabled()
    assert window.reminder_row.status.text().startswith("Reminders cannot be set up here:")
    assert not window.errors.isVisible()  # not an error panel: nothing went wrong here


def test_no_reminder_box_in_demo_mode(server, session, make_window):
    session.demo_note = "EPOC number:\n8123456\n\nPIN:\nK7QM-4X9R-T3HP"
    window = make_window(session)
    assert window.reminder_row.isHidden()


def test_details_name_each_store_that_holds_the_certificate(server, session, make_window):
    """Several stores (Chrome and Firefox): one line each, plain words then the place."""
    import dataclasses

    from ecmt.services.status import StorePlace
    from ecmt.ui.details import installed_in

    install(session, server)
    status = session.app.status.certificates()[0]
    both = dataclasses.replace(
        status,
        places=(
            StorePlace("nss", "Chrome and Edge", "NSS database ~/.pki/nssdb", True),
            StorePlace("firefox", "Firefox on this computer", "NSS database ~/.mozilla/x", True),
        ),
    )
    assert installed_in(both).splitlines() == [
        "Chrome and Edge (NSS database ~/.pki/nssdb)",
        "Firefox on this computer (NSS database ~/.mozilla/x)",
    ]
