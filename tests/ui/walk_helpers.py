"""Walking the real renewal wizard from R-1 to Done, for the walk, keyboard, accessibility
and stall tests and for bench/wizard_stall.py (a plain module: `from walk_helpers import ...`).

Nothing here sleeps: every wait spins the Qt event loop until a condition holds, either
`qtbot.waitUntil` (tests) or `wait_until` below (the bench, which has no pytest-qt).
The walker clicks only visible, enabled buttons, as a user can.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QLineEdit, QScrollArea, QWizard

from ecmt.domain.models import BackupFormat
from ecmt.ui.pages.backup import BackupPage
from ecmt.ui.pages.base import PageId, StepPage
from ecmt.ui.pages.logon import LogonPage
from ecmt.ui.pages.overview import OverviewPage
from ecmt.ui.pages.terms import TermsPage
from ecmt.ui.wizard import RenewalWizard

WAIT_MS = 60_000
PASSWORD = "Correct1horse"


class Wait(Protocol):
    """`qtbot.waitUntil` has this shape; so has `wait_until`."""

    def __call__(self, callback: Callable[[], Any], *, timeout: int = ...) -> None: ...


def wait_until(callback: Callable[[], Any], *, timeout: int = WAIT_MS) -> None:
    """Run the event loop until `callback()` is true (no sleeping on the GUI thread)."""
    deadline = time.monotonic() + timeout / 1000
    loop = QEventLoop()
    while not callback():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} ms")
        QTimer.singleShot(5, loop.quit)
        loop.exec()


# --- the release manifest ------------------------------------------------------------------


# --- driving the wizard --------------------------------------------------------------------


@dataclass
class Backup:
    """What R-7 is given when the user says Yes."""

    folder: Path
    file_name: str = "backup.p12"
    password: str = PASSWORD
    format: BackupFormat = BackupFormat.LEGACY

    @property
    def path(self) -> Path:
        return self.folder / self.file_name


class Walker:
    """One wizard, driven with the mouse and typed text, page by page."""

    def __init__(self, wizard: RenewalWizard, wait: Wait = wait_until) -> None:
        self.wizard = wizard
        self.wait = wait

    def page(self, page_id: PageId) -> StepPage:
        return self.wizard.page_of(page_id)

    def arrive(self, page_id: PageId) -> StepPage:
        """Wait until the wizard shows `page_id` and the page's own work has finished."""
        page = self.page(page_id)
        self.wait(lambda: self.wizard.currentId() == page_id and not page.busy, timeout=WAIT_MS)
        return page

    def click(self, button: QAbstractButton) -> None:
        assert button.isVisible(), f"{button.accessibleName()} is not visible"
        assert button.isEnabled(), f"{button.accessibleName()} is not enabled"
        parent = button.parentWidget()
        while parent is not None and not isinstance(parent, QScrollArea):
            parent = parent.parentWidget()
        if parent is not None:  # scroll it into view first, as a user would at large text
            parent.ensureWidgetVisible(button)
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)

    def next(self) -> None:
        """Wait until the current page lets the user go on, then click Next."""
        page = self.wizard.currentPage()
        assert isinstance(page, StepPage)
        self.wait(page.isComplete, timeout=WAIT_MS)
        which = QWizard.WizardButton.CommitButton if page.isCommitPage() else None
        self.click(self.wizard.button(which or QWizard.WizardButton.NextButton))

    @staticmethod
    def type_into(field: QLineEdit, text: str) -> None:
        """Focus, select all, type over it key by key."""
        field.setFocus()
        QTest.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        QTest.keyClick(field, Qt.Key.Key_Backspace)
        QTest.keyClicks(field, text)


Inspect = Callable[[StepPage], None]


def walk_renewal(
    walker: Walker,
    *,
    pin: str | None,
    epoc: str | None = None,
    backup: Backup | None = None,
    on_logon: Callable[[], None] | None = None,
    inspect: Inspect | None = None,
) -> None:
    """R-1 to Done like a user: Next, Next, log on with the PIN (None: "Renew with my
    current certificate"), Request and download, I accept (if the terms are shown), then a
    backup or No. `on_logon` runs as R-3 is reached; `inspect` sees every page once it has
    settled (R-7 twice: as it opens and with its form filled in)."""
    look = inspect or (lambda _page: None)
    wizard = walker.wizard
    problems: list[BaseException] = []

    def shown(page_id: int) -> None:
        """R-6 moves on by itself: look at it the moment it is shown, with Stop there."""
        if page_id == PageId.REQUEST:
            try:
                look(walker.page(PageId.REQUEST))
            except BaseException as error:  # raised again below, not inside a Qt slot
                problems.append(error)

    wizard.currentIdChanged.connect(shown)
    try:
        _walk(walker, look, pin, epoc, backup, on_logon)
    finally:
        wizard.currentIdChanged.disconnect(shown)
    if problems:
        raise problems[0]


def _walk(
    walker: Walker,
    look: Inspect,
    pin: str | None,
    epoc: str | None,
    backup: Backup | None,
    on_logon: Callable[[], None] | None,
) -> None:
    wizard = walker.wizard
    for page_id in (PageId.ADMIN, PageId.VERSION):
        look(walker.arrive(page_id))
        walker.next()

    logon = walker.arrive(PageId.LOGON)
    assert isinstance(logon, LogonPage)
    if on_logon is not None:
        on_logon()
    if epoc is not None and logon.epoc.text() != epoc:
        walker.type_into(logon.epoc, epoc)
    look(logon)
    if pin is None:
        walker.click(logon.renew)
    else:
        walker.type_into(logon.pin, pin)
        walker.click(logon.log_on_button)

    overview = walker.arrive(PageId.OVERVIEW)
    assert isinstance(overview, OverviewPage)
    look(overview)
    walker.click(overview.action)
    walker.wait(lambda: wizard.currentId() != PageId.OVERVIEW, timeout=WAIT_MS)
    if wizard.currentId() == PageId.TERMS:
        terms = walker.arrive(PageId.TERMS)
        assert isinstance(terms, TermsPage)
        walker.wait(terms.accept_button.isEnabled, timeout=WAIT_MS)
        look(terms)
        walker.click(terms.accept_button)

    page = walker.arrive(PageId.BACKUP)  # through R-6, which moves on once installed
    assert isinstance(page, BackupPage)
    look(page)
    if backup is None:
        walker.click(page.no)
    else:
        fill_backup(walker, page, backup)
        look(page)
    walker.next()  # with Yes, Next makes the backup and moves on once it is checked
    look(walker.arrive(PageId.DONE))
    if backup is not None:
        assert page.session.backup is not None


def fill_backup(walker: Walker, page: BackupPage, backup: Backup) -> None:
    walker.click(page.yes)
    form = page.form
    walker.type_into(form.folder, str(backup.folder))
    walker.type_into(form.file_name, backup.file_name)
    button = form.format_buttons[backup.format]
    if not button.isChecked():
        walker.click(form.more)
        walker.click(button)
    walker.type_into(form.password, backup.password)
    walker.type_into(form.again, backup.password)


# --- the event-loop stall probe ------------------------------------------------------------


class StallProbe(QObject):
    """A 10 ms precise timer on the GUI thread noting when it fires, and on which page: the
    longest gap between two ticks is the longest time the window could not respond."""

    def __init__(self, wizard: QWizard | None = None, interval_ms: int = 10) -> None:
        super().__init__()
        self.wizard = wizard
        self.ticks: list[tuple[float, int]] = []
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        page = self.wizard.currentId() if self.wizard is not None else -1
        self.ticks.append((time.perf_counter(), page))

    def start(self) -> None:
        self.ticks.clear()
        self._tick()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self._tick()

    def report(self) -> StallReport:
        gaps = [
            ((later - earlier) * 1000, (page_before, page_after))
            for (earlier, page_before), (later, page_after) in zip(
                self.ticks, self.ticks[1:], strict=False
            )
        ]
        longest, pages = max(gaps, default=(0.0, (-1, -1)))
        duration = (self.ticks[-1][0] - self.ticks[0][0]) * 1000 if self.ticks else 0.0
        return StallReport(longest, pages, len(self.ticks), duration, [g for g, _ in gaps])


def page_name(page_id: int) -> str:
    try:
        return PageId(page_id).name
    except ValueError:
        return str(page_id)


@dataclass
class StallReport:
    longest_ms: float
    pages: tuple[int, int]  # the wizard's page before and after the longest gap
    ticks: int
    duration_ms: float
    gaps_ms: list[float] = field(repr=False)

    @property
    def where(self) -> str:
        before, after = (page_name(p) for p in self.pages)
        return before if before == after else f"{before} -> {after}"

    @property
    def median_ms(self) -> float:
        return statistics.median(self.gaps_ms) if self.gaps_ms else 0.0

    def __str__(self) -> str:
        return (
            f"longest event-loop gap {self.longest_ms:.1f} ms (at {self.where}); "
            f"{self.ticks} ticks over {self.duration_ms / 1000:.2f} s, "
            f"median gap {self.median_ms:.1f} ms"
        )


def renewal_stall(
    wizard: RenewalWizard,
    *,
    pin: str | None,
    wait: Wait = wait_until,
    epoc: str | None = None,
    backup: Backup | None = None,
) -> StallReport:
    """Walk `wizard` (already shown, at R-1) to Done with the probe running from the moment
    R-3 is reached until Done has settled; the report of the gaps between its ticks."""
    probe = StallProbe(wizard)
    walk_renewal(Walker(wizard, wait), pin=pin, epoc=epoc, backup=backup, on_logon=probe.start)
    probe.stop()
    return probe.report()
