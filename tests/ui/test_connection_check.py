""" "Check my connection" against the real reference server, from R-2 and from the overview:
the checks run off the GUI thread and every finding shows as a symbol and words."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from ecmt import __version__
from ecmt.ui.connection_check import ConnectionCheckDialog
from ecmt.ui.overview import OverviewWindow
from ecmt.ui.pages.base import PageId
from ecmt.ui.widgets import Mood, StatusLine
from ecmt.ui.wizard import RenewalWizard
from support import publish_release, release_keys

WAIT = 60_000


def lines(dialog: ConnectionCheckDialog) -> dict[str, StatusLine]:
    return {
        line.objectName().removeprefix("finding-"): line
        for line in dialog.findChildren(StatusLine)
        if line.objectName().startswith("finding-")
    }


def test_r2_button_checks_the_connection(qtbot, server, session_for):
    publish_release(server, 1, __version__, __version__)
    session = session_for(server, release_keys=release_keys(server))
    wizard = RenewalWizard(session)
    qtbot.addWidget(wizard)
    wizard.setStartId(int(PageId.VERSION))
    wizard.show()
    page = wizard.page_of(PageId.VERSION)
    qtbot.waitUntil(lambda: not page.busy, timeout=WAIT)
    assert page.check_button.accessibleName() == "Check my connection"
    qtbot.mouseClick(page.check_button, Qt.MouseButton.LeftButton)
    dialog = page.connection_dialog
    assert isinstance(dialog, ConnectionCheckDialog)
    qtbot.waitUntil(lambda: dialog.done_, timeout=WAIT)
    found = lines(dialog)
    assert found["tls"].mood is Mood.OK
    assert "configured trust anchor" in found["tls"].text.text()
    assert found["service"].mood is Mood.OK
    assert found["certificate"].mood is Mood.WARNING  # nothing installed yet
    assert dialog.summary.mood is Mood.WARNING
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert "✔ tls: The service proved its identity" in copied
    assert "! certificate: There is no ePractitioner certificate" in copied
    dialog.close()


def test_overview_button_and_menu_name_the_cause(qtbot, server, session_for):
    session = session_for(server, server_url="https://nonexistent.invalid")
    window = OverviewWindow(session, lambda: None)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.loaded and window.task is None, timeout=WAIT)
    assert window.check_action.text() == "Check my c&onnection"
    qtbot.mouseClick(window.check_button, Qt.MouseButton.LeftButton)
    dialog = window.connection_dialog
    assert isinstance(dialog, ConnectionCheckDialog)
    qtbot.waitUntil(lambda: dialog.done_, timeout=WAIT)
    dns = lines(dialog)["dns"]
    assert dns.mood is Mood.PROBLEM
    assert "nonexistent.invalid, cannot be found" in dns.text.text()
    assert "(ECMT-NETWORK-DNS)" in dns.text.text()
    assert dns.accessibleName().startswith("problem: ")  # not colour alone
    assert dialog.summary.mood is Mood.PROBLEM
    assert "tls" not in lines(dialog)
    dialog.close()
    window.check_action.trigger()
    again = window.connection_dialog
    assert again is not dialog
    qtbot.waitUntil(lambda: again.done_, timeout=WAIT)
    again.close()
