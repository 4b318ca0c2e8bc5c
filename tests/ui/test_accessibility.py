"""Accessible names, mnemonics and large text, on every page of a real walk (with an error
shown on R-3, a newer version offered on R-2, certificates listed on R-4, the backup form
filled in on R-7) and on the overview window, at 100% and at 200% text size.

- Every visible control a user or a screen reader can reach has an accessible name.
- Every label with a mnemonic (&E) has a buddy, and no two visible mnemonics on a page
  (the wizard's own buttons included) share a letter.
- At 200%: the window can show all of its content (its minimum, which follows the
  content, fits a 1280x1024 screen, and the window is not smaller than that minimum, so
  nothing is squeezed), and no label that cannot wrap is wider than the page.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QTextEdit,
    QWidget,
    QWizard,
)
from pytestqt.qtbot import QtBot
from walk_helpers import WAIT_MS, Backup, Walker, walk_renewal

from ecmt import __version__
from ecmt.domain.models import PinCredentials
from ecmt.services.renewal import RenewalRequest
from ecmt.ui.overview import OverviewWindow
from ecmt.ui.pages.base import PageId, StepPage
from ecmt.ui.pages.logon import LogonPage
from ecmt.ui.pages.version import VersionPage
from ecmt.ui.session import WizardSession
from ecmt.ui.wizard import RenewalWizard
from support import Harness, release_keys
from support import publish_release as publish

SCREEN = QSize(1280, 1024)
INTERACTIVE = (
    QAbstractButton,  # push buttons, radio buttons, check boxes, tool buttons
    QLineEdit,
    QComboBox,
    QAbstractSpinBox,
    QTextEdit,  # and QTextBrowser
    QPlainTextEdit,
    QAbstractItemView,  # tables, lists
    QScrollArea,  # a Tab stop of its own, so a page can be scrolled by keyboard
)


@pytest.fixture(params=[1, 2], ids=["100%", "200%"])
def scale(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[int]:
    """The application font at 100% or 200% of its point size, restored afterwards."""
    old = QFont(qapp.font())
    if request.param != 1:
        big = QFont(old)
        if old.pointSizeF() > 0:
            big.setPointSizeF(old.pointSizeF() * request.param)
        else:
            big.setPixelSize(old.pixelSize() * request.param)
        qapp.setFont(big)
    yield request.param
    qapp.setFont(old)


# --- the checks ----------------------------------------------------------------------------


def describe(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, QAbstractButton | QLabel) else ""
    return f"{type(widget).__name__} {text or widget.objectName()!r}"


def unnamed(root: QWidget) -> list[str]:
    """Visible controls without an accessible name. A table's header is part of its table
    (which carries the name) and takes no focus of its own."""
    return [
        describe(widget)
        for widget in root.findChildren(QWidget)
        if isinstance(widget, INTERACTIVE)
        and not isinstance(widget, QHeaderView)
        and widget.isVisible()
        and not widget.accessibleName().strip()
    ]


def mnemonic(text: str) -> str | None:
    plain = text.replace("&&", "")
    index = plain.find("&")
    return plain[index + 1].lower() if 0 <= index < len(plain) - 1 else None


def without_buddy(root: QWidget) -> list[str]:
    return [
        describe(label)
        for label in root.findChildren(QLabel)
        if mnemonic(label.text()) and label.buddy() is None
    ]


def clashing_mnemonics(window: QWidget) -> list[str]:
    """Letters that more than one visible control (or buddy label) answers to with Alt."""
    keys: list[str] = []
    for widget in window.findChildren(QWidget):
        if isinstance(widget, QAbstractButton | QLabel) and widget.isVisible():
            key = mnemonic(widget.text())
            if key:
                keys.append(key)
    return sorted(key for key, count in Counter(keys).items() if count > 1)


def too_wide(labels: Iterable[QLabel], width: int) -> list[str]:
    """Visible labels that cannot wrap and are wider than `width`: at large text they are
    cut off or push the content sideways out of view."""
    return [
        f"{describe(label)}: {label.sizeHint().width()} > {width}"
        for label in labels
        if label.isVisible() and not label.wordWrap() and label.sizeHint().width() > width
    ]


def content_minimum(window: QWidget) -> QSize:
    """What the window needs to show its content unsqueezed. QWizard lays its content out
    in a child widget, so its own minimumSizeHint() is empty: take the children's too."""
    size = window.minimumSizeHint().expandedTo(QSize(0, 0))
    for child in window.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
        if child.isVisible() and not child.isWindow():
            size = size.expandedTo(child.minimumSizeHint())
    return size


def fits(window: QWidget) -> bool:
    need = content_minimum(window)
    return window.width() >= need.width() and window.height() >= need.height()


def assert_fits_the_screen(qtbot: QtBot, window: QWidget, what: str) -> None:
    need = content_minimum(window)
    assert need.width() <= SCREEN.width(), f"{what}: needs {need.width()} px wide"
    assert need.height() <= SCREEN.height(), f"{what}: needs {need.height()} px high"
    with contextlib.suppress(qtbot.TimeoutError):  # a new minimum resizes the window
        qtbot.waitUntil(lambda: fits(window), timeout=2000)
    have = window.size()
    assert fits(window), f"{what}: the window is {have.toTuple()}, its content needs {need}"


# --- the wizard ----------------------------------------------------------------------------


def test_every_page_is_named_and_fits_large_text(
    qtbot: QtBot,
    server: Harness,
    session_for: Callable[..., WizardSession],
    tmp_path: Path,
    scale: int,
) -> None:
    session = session_for(server, release_keys=release_keys(server))
    download = {
        "platform": session.app.release.platform,
        "kind": "installer",
        "url": "https://example.invalid/ecmt-999.0.0",
        "sha256": "ab" * 32,
        "size": 1,
    }
    publish(server, 1, "999.0.0", __version__, [download])  # R-2 offers it, with its digest
    epoc = server.add_account(name="Dr Large Print")
    session.app.renewal.renew(  # a certificate here: R-3 offers it, R-4 lists it
        RenewalRequest(epoc, credentials=PinCredentials(epoc, SecretStr(server.issue_pin(epoc))))
    )
    terms = session.app.terms.current()
    server.admin.publish_terms("2", terms.title, terms.text + "\n7. Large print.\n")
    pin = server.issue_pin(epoc)
    wizard = RenewalWizard(session)
    qtbot.addWidget(wizard)
    wizard.show()
    walker = Walker(wizard, qtbot.waitUntil)
    visited: list[str] = []

    def inspect(page: StepPage) -> None:
        what = f"{page.step_code} ({page.title()})"
        if page.errors.isVisible():
            what += " with an error"
        visited.append(what)
        assert unnamed(wizard) == [], what
        assert without_buddy(wizard) == [], what
        assert clashing_mnemonics(wizard) == [], what
        if isinstance(page, VersionPage):
            assert page.download.isVisible()
            assert page.digest.isVisible()
        if scale == 1:
            return
        assert too_wide(page.findChildren(QLabel), page.width()) == [], what
        header = [w for w in wizard.findChildren(QLabel) if not page.isAncestorOf(w)]
        assert too_wide(header, wizard.width()) == [], what  # title, subtitle
        if page.page_id != PageId.REQUEST:  # R-6 is looked at inside a Qt signal: no waiting
            assert_fits_the_screen(qtbot, wizard, what)

    def wrong_pin_first() -> None:
        logon = wizard.currentPage()
        assert isinstance(logon, LogonPage)
        assert logon.renew.isVisible()
        walker.type_into(logon.pin, "WRONG-PIN-0000")
        walker.click(logon.log_on_button)
        qtbot.waitUntil(lambda: logon.errors.isVisible() and not logon.busy, timeout=WAIT_MS)
        inspect(logon)

    walk_renewal(
        walker,
        pin=pin,
        backup=Backup(tmp_path / "backups"),
        on_logon=wrong_pin_first,
        inspect=inspect,
    )
    assert [v.split(" ")[0] for v in visited] == [
        "R-1",
        "R-2",
        "R-3",
        "R-3",
        "R-4",
        "R-5",
        "R-6",
        "R-7",
        "R-7",
        "R-8",
    ]
    assert "R-3 (Step 3 of 7 · R-3: Log on) with an error" in visited
    assert wizard.button(QWizard.WizardButton.FinishButton).isVisible()


# --- the overview window -------------------------------------------------------------------


def test_the_overview_window_is_named_and_fits_large_text(
    qtbot: QtBot, server: Harness, session: WizardSession, scale: int
) -> None:
    epoc = server.add_account(name="Dr Overview Large")
    session.app.renewal.renew(
        RenewalRequest(epoc, credentials=PinCredentials(epoc, SecretStr(server.issue_pin(epoc))))
    )
    window = OverviewWindow(session, lambda: None)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.loaded and window.task is None, timeout=WAIT_MS)
    assert window.rows, "the overview lists the certificate"
    assert unnamed(window) == []
    assert without_buddy(window) == []
    assert clashing_mnemonics(window) == []
    if scale != 1:
        assert_fits_the_screen(qtbot, window, "the overview window")
