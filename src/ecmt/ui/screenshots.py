"""`python -m ecmt.ui.screenshots OUT_DIR`: start the desktop app exactly as `ecmt --demo`
does (ui/desktop.py `launch`), walk the wizard like a user would, and save one PNG per
page and per important state, at the size the windows really open with.

The walk types into the widgets and clicks their buttons; it finds them at run time by
their accessible names (the names a screen reader speaks), so it needs nothing from the
pages but what users already rely on. Every wait processes events until a condition holds,
with a timeout; a step that cannot be reached ends the run with a message naming it and
exit status 1 (and a `failed-<step>.png` of the screen it was stuck on).

Runs offscreen when QT_QPA_PLATFORM is unset or "offscreen", on a virtual 1280 x 1024
screen (a common practice PC), so no display is needed and the pictures are the same on
every machine; or on a real X server such as Xvfb: `QT_QPA_PLATFORM=xcb xvfb-run -a
python -m ecmt.ui.screenshots OUT_DIR`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QThread
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLineEdit,
    QWidget,
    QWizard,
)

from ..domain.models import RenewalStage
from . import tasks
from .desktop import Desktop, launch
from .overview import OverviewWindow
from .pages.base import PageId, StepPage
from .wizard import RenewalWizard

W = TypeVar("W", bound=QWidget)
SCREEN = {"name": "Screen", "x": 0, "y": 0, "width": 1280, "height": 1024, "logicalDpi": 96}

SHOTS = (
    "r1-admin",
    "r2-version",
    "r3-logon-empty",
    "r3-logon-wrong-pin",
    "r3-logon-filled",
    "r4-overview",
    "r5-terms",
    "r6-request-progress",
    "r7-backup-checklist-half",
    "r7-backup-filled",
    "done",
    "overview-window",
    "overview-details",
    "overview-backup",
)
WRONG_PIN = "AAAA-BBBB-CCCC"
HALF_PASSWORD = "surgery2"  # noqa: S105 - long, lower case, a digit; no capital
PASSWORD = "Surgery2027"  # noqa: S105 - the demo's backup password, shown in the guide


def use_virtual_screen() -> None:
    """Offscreen on a 1280 x 1024 screen, unless another platform (or an offscreen screen
    of its own) was chosen: read by Qt when the application is made, so this runs first."""
    if os.environ.get("QT_QPA_PLATFORM", "offscreen") != "offscreen":
        return
    config = Path(tempfile.gettempdir()) / "ecmt-screenshots-screen.json"
    config.write_text(json.dumps({"screens": [{**SCREEN, "logicalBaseDpi": 96, "dpr": 1}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


class StepFailed(Exception):
    """A step of the walk could not be reached; the message says which and why."""


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Process events until `condition()` holds; StepFailed naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise StepFailed(f"timed out after {timeout:.0f} s waiting for {what}")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        QThread.msleep(10)


def settle() -> None:
    """Let posted layout and paint events run before a picture is taken."""
    for _ in range(3):
        QCoreApplication.processEvents()


def find(root: QWidget, kind: type[W], name: str) -> W:
    """The visible widget of `kind` under `root` whose accessible name is `name`."""
    found = [w for w in root.findChildren(kind) if w.accessibleName() == name]
    visible = [w for w in found if w.isVisible()] or found
    if not visible:
        raise StepFailed(f'no {kind.__name__} named "{name}" on {describe(root)}')
    return visible[0]


def describe(widget: QWidget) -> str:
    if isinstance(widget, StepPage):
        return f"the page {widget.step_code} ({widget.title()})"
    return widget.objectName() or type(widget).__name__


def type_into(field: QLineEdit, text: str) -> None:
    """Type as a user does: focus, select all, delete, then one key after another."""
    field.setFocus()
    QTest.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(field, Qt.Key.Key_Backspace)
    QTest.keyClicks(field, text)


def click(widget: QAbstractButton, what: str) -> None:
    if not widget.isVisible() or not widget.isEnabled():
        state = f"visible={widget.isVisible()}, enabled={widget.isEnabled()}"
        raise StepFailed(f'"{what}" is not there to click ({state})')
    widget.click()


class Walk:
    """One run of the desktop app in demo mode, saving pictures into `out`."""

    def __init__(self, out: Path, desktop: Desktop) -> None:
        self.out = out
        self.desktop = desktop
        assert desktop.environment is not None
        assert desktop.wizard is not None
        self.environment = desktop.environment
        self.wizard: RenewalWizard = desktop.wizard
        self.session = self.wizard.session
        self.step = "start"
        self.saved: list[Path] = []

    @property
    def overview(self) -> OverviewWindow:
        assert self.desktop.overview is not None
        return self.desktop.overview

    # --- pictures ------------------------------------------------------------------------

    def save(self, name: str, widget: QWidget | None = None, *, wait: bool = True) -> None:
        """Picture `widget` (the wizard); `wait=False` takes it as drawn now, without
        letting queued events (the next page) run first."""
        if wait:
            settle()
        image = (widget or self.wizard).grab().toImage()
        opaque = image.convertToFormat(QImage.Format.Format_RGB32)  # no alpha channel to store
        path = self.out / f"{name}.png"
        if not opaque.save(str(path), quality=0):  # PNG at its strongest compression
            raise StepFailed(f"could not write {path}")
        self.saved.append(path)

    # --- the wizard ----------------------------------------------------------------------

    def page(self, page_id: PageId) -> StepPage:
        return self.wizard.page_of(page_id)

    def on_page(self, page_id: PageId) -> bool:
        return self.wizard.currentId() == int(page_id)

    def arrive(self, page_id: PageId, timeout: float = 60.0) -> StepPage:
        """Wait until the wizard shows `page_id` and its background work has finished."""
        page = self.page(page_id)
        wait_until(
            lambda: self.on_page(page_id) and not page.busy,
            f"{page.step_code} to show and finish its work "
            f"(the wizard is on page {self.wizard.currentId()})",
            timeout,
        )
        return page

    def next(self, page_id: PageId) -> None:
        """Wait for `page_id` to be complete, then press Next like a user."""
        page = self.page(page_id)
        wait_until(page.isComplete, f"{page.step_code} to let the user go on", 60)
        click(self.wizard.button(QWizard.WizardButton.NextButton), "Next")

    @contextmanager
    def stepping(self, step: str) -> Iterator[None]:
        self.step = step
        yield

    def run(self) -> None:
        self.admin()
        self.version()
        self.logon()
        self.account()
        self.terms()
        self.request()
        self.backup()
        self.done()

    def admin(self) -> None:
        with self.stepping("r1-admin"):
            page = self.arrive(PageId.ADMIN)
            wait_until(page.isComplete, "the administrator check to pass")
            self.save("r1-admin")
            self.next(PageId.ADMIN)

    def version(self) -> None:
        with self.stepping("r2-version"):
            page = self.arrive(PageId.VERSION)
            wait_until(page.isComplete, "the version check to pass")
            self.save("r2-version")
            self.next(PageId.VERSION)

    def logon(self) -> None:
        with self.stepping("r3-logon"):
            page = self.arrive(PageId.LOGON)
            epoc = find(page, QLineEdit, "EPOC number")
            pin = find(page, QLineEdit, "PIN")
            log_on = find(page, QAbstractButton, "Log on")
            wait_until(lambda: epoc.isEnabled() and bool(epoc.text()), "the EPOC number")
            if epoc.text().strip() != self.environment.epoc:
                type_into(epoc, self.environment.epoc)
            self.save("r3-logon-empty")
        with self.stepping("r3-logon-wrong-pin"):
            type_into(pin, WRONG_PIN)
            click(log_on, "Log on")
            wait_until(lambda: page.errors.isVisible() and not page.busy, "the wrong-PIN message")
            error = page.errors.error
            if error is None or error.attempts_remaining is None:
                raise StepFailed(f"expected a wrong-PIN message with tries left, got {error}")
            self.save("r3-logon-wrong-pin")
        with self.stepping("r3-logon-filled"):
            type_into(pin, self.environment.pin)
            self.save("r3-logon-filled")
            click(log_on, "Log on")

    def account(self) -> None:
        with self.stepping("r4-overview"):
            page = self.arrive(PageId.OVERVIEW)
            self.save("r4-overview")
            click(find(page, QAbstractButton, "Request and download certificate"), "Request")

    def terms(self) -> None:
        with self.stepping("r5-terms"):
            page = self.arrive(PageId.TERMS)
            accept = find(page, QAbstractButton, "I accept the terms of use")
            wait_until(accept.isEnabled, "the terms of use to load")
            self.save("r5-terms")
            click(accept, "I accept")

    def request(self) -> None:
        with self.stepping("r6-request-progress"):
            page = self.page(PageId.REQUEST)
            wait_until(lambda: self.on_page(PageId.REQUEST), "the request page")
            # Catch the renewal mid-way: picture it as the stage "installing" is reported.
            # Slots run on the GUI thread in order, so the page has already drawn it.
            caught: list[bool] = []

            def on_progress(update: object) -> None:
                stage = update[0] if isinstance(update, tuple) else update
                if not caught and stage is RenewalStage.INSTALLING:
                    caught.append(True)
                    self.save("r6-request-progress", wait=False)

            if page.task is not None:
                page.task.signals.progress.connect(on_progress)
            wait_until(
                lambda: bool(caught) or self.on_page(PageId.BACKUP) or page.errors.isVisible(),
                "the new certificate to be installed",
                120,
            )
            if page.errors.isVisible():
                raise StepFailed(f"the renewal failed: {page.errors.error}")

    def backup(self) -> None:
        with self.stepping("r7-backup-checklist-half"):
            page = self.arrive(PageId.BACKUP)
            click(find(page, QAbstractButton, "Yes, back up the new certificate"), "Yes")
            password = find(page, QLineEdit, "Backup password")
            again = find(page, QLineEdit, "Backup password again")
            type_into(password, HALF_PASSWORD)
            self.save("r7-backup-checklist-half")
        with self.stepping("r7-backup-filled"):
            type_into(password, PASSWORD)
            type_into(again, PASSWORD)
            self.save("r7-backup-filled")
            self.next(PageId.BACKUP)  # Next makes the backup, then moves on

    def done(self) -> None:
        with self.stepping("done"):
            self.arrive(PageId.DONE)
            if self.session.backup is None:
                raise StepFailed("the Done page came without the backup")
            self.save("done")
            click(self.wizard.button(QWizard.WizardButton.FinishButton), "Finish")
        with self.stepping("overview-window"):
            wait_until(lambda: self.desktop.overview is not None, "the overview window")
            overview = self.overview
            wait_until(lambda: self.environment.letters > 1, "the demo's next PIN letter")
            wait_until(
                lambda: overview.loaded and overview.task is None and bool(overview.rows),
                "the overview window to list the new certificate",
            )
            self.save("overview-window", overview)
        with self.stepping("overview-details"):
            click(find(overview, QAbstractButton, "Details of the selected certificate"), "Details")
            wait_until(
                lambda: overview.details_dialog is not None and overview.details_dialog.isVisible(),
                "the certificate details",
            )
            assert overview.details_dialog is not None
            self.save("overview-details", overview.details_dialog)
            overview.details_dialog.close()
        with self.stepping("overview-backup"):
            click(find(overview, QAbstractButton, "Back up the selected certificate"), "Back up")
            wait_until(
                lambda: overview.backup_dialog is not None and overview.backup_dialog.isVisible(),
                "the backup dialog",
            )
            dialog = overview.backup_dialog
            assert dialog is not None
            type_into(find(dialog, QLineEdit, "Backup password"), PASSWORD)
            type_into(find(dialog, QLineEdit, "Backup password again"), PASSWORD)
            wait_until(dialog.save_button.isEnabled, "Save backup to be enabled")
            self.save("overview-backup", dialog)
            dialog.close()

    def failure_picture(self) -> None:
        """What the screen showed when a step could not be reached, for the log."""
        with contextlib.suppress(Exception):  # it must never hide the failure itself
            self.wizard.grab().save(str(self.out / f"failed-{self.step}.png"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ecmt.ui.screenshots",
        description="Walk the wizard against the demo service and save a PNG per step.",
    )
    parser.add_argument("out_dir", type=Path, help="folder for the PNG files (made if missing)")
    args = parser.parse_args(argv)
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)

    use_virtual_screen()
    qt_app, desktop = launch(None, demo=True)  # what `ecmt --demo` runs before its loop
    qt_app.setQuitOnLastWindowClosed(False)  # the walk closes windows between pictures
    walk: Walk | None = None
    try:
        walk = Walk(out, desktop)
        walk.run()
    except StepFailed as failure:
        step = walk.step if walk else "start"
        if walk is not None:
            walk.failure_picture()
        print(f"screenshots: could not reach step {step}: {failure}", file=sys.stderr)
        return 1
    finally:
        tasks.wait_all()
        for window in QApplication.topLevelWidgets():
            window.close()
        if desktop.session.source.built:
            desktop.session.app.close()
        if desktop.environment is not None:
            desktop.environment.close()
    for path in walk.saved:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
