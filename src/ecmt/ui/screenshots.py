"""`python -m ecmt.ui.screenshots OUT_DIR`: walk the real wizard against the demo service
like a user would, and save one PNG per page and per important state.

The walk types into the widgets and clicks their buttons; it finds them at run time by
their accessible names (the names a screen reader speaks), so it needs nothing from the
pages but what users already rely on. Every wait processes events until a condition holds,
with a timeout; a step that cannot be reached ends the run with a message naming it and
exit status 1 (and a `failed-<step>.png` of the screen it was stuck on).

Runs with QT_QPA_PLATFORM=offscreen (set when unset: no display needed, and the same
pictures on every machine) or on a real X server such as Xvfb:
`QT_QPA_PLATFORM=xcb xvfb-run -a python -m ecmt.ui.screenshots OUT_DIR`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

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

from ..app import build_app
from ..domain.models import RenewalStage
from ..logsetup import configure
from . import tasks
from .demo import DemoEnvironment, start_demo
from .overview import OverviewWindow
from .pages.base import PageId, StepPage
from .session import WizardSession
from .wizard import RenewalWizard

W = TypeVar("W", bound=QWidget)

SHOTS = (
    "r1-admin",
    "r2-version",
    "r3-logon-empty",
    "r3-logon-wrong-pin",
    "r3-logon-filled",
    "r4-overview",
    "r5-terms",
    "r6-request-progress",
    "r6-request-done",
    "r7-backup-checklist-half",
    "r7-backup-done",
    "done",
    "overview-window",
    "overview-details",
    "overview-backup",
)
WRONG_PIN = "AAAA-BBBB-CCCC"
HALF_PASSWORD = "surgery2"  # noqa: S105 - long, lower case, a digit; no capital
PASSWORD = "Surgery2027"  # noqa: S105 - the demo's backup password, shown in the guide
WIZARD_SIZE = (800, 620)
OVERVIEW_SIZE = (800, 460)


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
    """One run of the wizard, saving pictures into `out`."""

    def __init__(self, out: Path, environment: DemoEnvironment, show_letter: bool) -> None:
        self.out = out
        self.environment = environment
        settings = environment.settings
        log_path = configure(settings.log_dir)
        self.session = WizardSession(
            build_app(settings), log_path, environment.letter if show_letter else None
        )
        self.overview = OverviewWindow(self.session, lambda: None)
        self.overview.resize(*OVERVIEW_SIZE)
        self.wizard = RenewalWizard(self.session)
        self.wizard.finished.connect(lambda _result: self.overview.refresh())
        self.wizard.resize(*WIZARD_SIZE)
        self.step = "start"
        self.saved: list[Path] = []

    # --- pictures ------------------------------------------------------------------------

    def save(self, name: str, widget: QWidget | None = None) -> None:
        settle()
        image = (widget or self.wizard).grab().toImage()
        opaque = image.convertToFormat(QImage.Format.Format_RGB32)  # no alpha channel to store
        path = self.out / f"{name}.png"
        if not opaque.save(str(path), quality=0):  # PNG at its strongest compression
            raise StepFailed(f"could not write {path}")
        self.saved.append(path)

    # --- the wizard ----------------------------------------------------------------------

    def page(self, page_id: PageId) -> StepPage:
        """The wizard may build its later pages once its window is up: wait for them."""
        wait_until(lambda: page_id in self.wizard.pages, f"the page {page_id.name} to be built")
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
        self.overview.show()
        self.wizard.show()
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
                    self.save("r6-request-progress")

            if page.task is not None:
                page.task.signals.progress.connect(on_progress)
        with self.stepping("r6-request-done"):
            # the page moves on to the backup by itself once the certificate is installed;
            # hold it for one picture, then go on as the user would with Next
            go_next = page.go_next
            held: list[bool] = []
            page.go_next = lambda: held.append(True)  # type: ignore[method-assign]
            try:
                wait_until(
                    lambda: bool(held) or (page.isComplete() and not page.busy),
                    "the new certificate to be installed",
                    120,
                )
                if page.errors.isVisible():
                    raise StepFailed(f"the renewal failed: {page.errors.error}")
                if not caught:
                    self.save("r6-request-progress")  # too quick to catch: the finished state
                self.save("r6-request-done")
            finally:
                page.go_next = go_next  # type: ignore[method-assign]
            if self.on_page(PageId.REQUEST):
                click(self.wizard.button(QWizard.WizardButton.CommitButton), "Next")

    def backup(self) -> None:
        with self.stepping("r7-backup-checklist-half"):
            page = self.arrive(PageId.BACKUP)
            click(find(page, QAbstractButton, "Yes, back up the new certificate"), "Yes")
            password = find(page, QLineEdit, "Backup password")
            again = find(page, QLineEdit, "Backup password again")
            type_into(password, HALF_PASSWORD)
            self.save("r7-backup-checklist-half")
        with self.stepping("r7-backup-done"):
            type_into(password, PASSWORD)
            type_into(again, PASSWORD)
            back_up = find(page, QAbstractButton, "Back up now")
            wait_until(back_up.isEnabled, "Back up to be enabled by a good password")
            click(back_up, "Back up")
            wait_until(
                lambda: self.session.backup is not None or page.errors.isVisible(),
                "the backup to be saved and checked",
            )
            if self.session.backup is None:
                raise StepFailed(f"the backup failed: {page.errors.error}")
            self.save("r7-backup-done")
            self.next(PageId.BACKUP)

    def done(self) -> None:
        with self.stepping("done"):
            self.arrive(PageId.DONE)
            self.save("done")
            click(self.wizard.button(QWizard.WizardButton.FinishButton), "Finish")
        with self.stepping("overview-window"):
            overview = self.overview
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
    parser.add_argument(
        "--demo-letter", action="store_true", help="show the demo PIN letter beside the wizard"
    )
    args = parser.parse_args(argv)
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)

    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qt_app, QApplication)
    qt_app.setApplicationName("ecmt")
    qt_app.setApplicationDisplayName("ePractitioner certificate")
    environment = start_demo()
    walk: Walk | None = None
    try:
        walk = Walk(out, environment, args.demo_letter)
        walk.run()
    except StepFailed as failure:
        step = walk.step if walk else "start"
        if walk is not None:
            walk.failure_picture()
        print(f"screenshots: could not reach step {step}: {failure}", file=sys.stderr)
        return 1
    finally:
        tasks.wait_all()
        if walk is not None:
            walk.wizard.close()
            walk.overview.close()
        environment.close()
    for path in walk.saved:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
