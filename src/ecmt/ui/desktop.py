"""The windows of one run of the desktop app, and the one way they are opened.

`ecmt`, `ecmt --demo` and the screenshot walk all start here (`launch`), so what a test
or a picture shows is what a user gets. Each renewal walk gets a fresh session: a second
renewal in the same run starts from nothing, sends its own request and reports only what
it did itself.

The first window shows before the settings, the store and cryptography are loaded: the
app is built on first use off the GUI thread (ui/session.py), and which window comes
first is remembered from the last run (ui/first_window.py), then checked in the
background.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from ..config_files import StartValues, start_values
from ..domain.errors import EcmtError, ErrorCode
from . import first_window, tasks
from .session import AppSource, WizardSession
from .widgets import FirstPaint

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from ..app import App
    from ..config import EcmtSettings
    from .demo import DemoEnvironment
    from .overview import OverviewWindow
    from .wizard import RenewalWizard

log = logging.getLogger(__name__)


def install_fatal_handler(session: WizardSession) -> None:
    """Any exception that escapes a slot becomes ECMT-UNEXPECTED with the log's path."""

    def handler(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.error("unexpected error", exc_info=(kind, value, tb))
        error = EcmtError(ErrorCode.UNEXPECTED, kind.__name__)
        session.last_error = error
        box = QMessageBox(QApplication.activeWindow())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Something went wrong")
        box.setText(f"{error.title} ({error.code.value})")
        box.setInformativeText(f"{error.advice}\n\nThe log file is {session.log_path}")
        box.show()

    sys.excepthook = handler


def quit_on_signals(qt_app: QApplication) -> None:
    """Ctrl-C or SIGTERM end the event loop normally, so the demo's temporary folder (with
    its CA keys) is removed. Python handles signals only between bytecodes, and Qt's loop
    runs in C: a short timer gives Python those moments."""
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: qt_app.quit())
    ticker = QTimer(qt_app)
    ticker.timeout.connect(lambda: None)
    ticker.start(250)


def renewal_due(app: App) -> datetime | None:
    """When a renewal becomes due: None when it is due now (no certificate here is valid
    and outside its renewal window, or the store cannot be read)."""
    from datetime import timedelta

    from ..domain.states import CertState

    try:
        valid = [s for s in app.status.certificates() if s.state is CertState.VALID]
    except EcmtError:
        return None
    if not valid:
        return None
    newest = max(s.not_after for s in valid)
    return newest - timedelta(days=app.settings.renewal_window_days)


@dataclass
class Desktop:
    """Opens the wizard and the overview; quits the app."""

    session: WizardSession  # the app's own: support details of the overview, the log
    start: StartValues
    environment: DemoEnvironment | None = None
    wizard: RenewalWizard | None = None
    overview: OverviewWindow | None = None
    walks: int = 0
    quit_app: Callable[[], None] = field(default=lambda: QApplication.quit())
    quitting: bool = False
    first_wizard: RenewalWizard | None = None  # opened at start, before the store was read

    def show_first_window(self) -> None:
        """The overview when, last time, nothing needed doing and still does not; else
        the wizard. Then the store is read off the GUI thread to confirm it."""
        if first_window.overview_first(self.start.state_dir, self.start.store):
            window: QWidget = self.open_overview()
        else:
            window = self.first_wizard = self.open_wizard()
        FirstPaint(window).then(self.check_first_window)

    def check_first_window(self) -> None:
        session, start = self.session, self.start

        def work(_report: object, _cancel: object) -> datetime | None:
            due = renewal_due(session.app)
            try:
                first_window.remember(start.state_dir, start.store, due)
            except OSError as exc:  # only a hint for the next start
                log.warning("could not remember the first window: %s", exc)
            return due

        tasks.start(work, self._checked_first_window, lambda error: None)

    def _checked_first_window(self, due: datetime | None) -> None:
        """Nothing to renew after all: the overview instead of an untouched wizard."""
        from datetime import UTC, datetime

        wizard, self.first_wizard = self.first_wizard, None  # only the start's own guess
        if due is None or due <= datetime.now(UTC) or wizard is None or not wizard.untouched():
            return
        if wizard is self.wizard:  # not one the user opened since, with Renew…
            wizard.close_untouched()

    def open_wizard(self) -> RenewalWizard:
        """A new walk, or the one already open brought to the front."""
        from .wizard import RenewalWizard

        if self.wizard is not None and self.wizard.isVisible():
            self.wizard.raise_()
            self.wizard.activateWindow()
            return self.wizard
        self.walks += 1
        wizard = RenewalWizard(self.session.for_new_walk())
        wizard.on_quit = self.quit
        wizard.finished.connect(lambda _result: self._walk_ended(wizard))
        self.wizard = wizard
        wizard.show()
        return wizard

    def open_overview(self) -> OverviewWindow:
        from .overview import OverviewWindow  # built when first needed, after the wizard

        if self.overview is None:
            self.overview = OverviewWindow(self.session, self.open_wizard, self.quit)
        self.overview.refresh()
        self.overview.show()
        self.overview.raise_()
        self.overview.activateWindow()
        return self.overview

    def _walk_ended(self, wizard: RenewalWizard) -> None:
        walk = wizard.session
        if walk.last_error is not None:  # the overview's support details name it too
            self.session.last_error = walk.last_error
        if walk.backup is not None:
            self.session.backup = walk.backup
        if self.environment is not None and walk.result is not None and walk.credentials:
            self._post_next_letter()
        wizard.deleteLater()
        if self.wizard is wizard:
            self.wizard = None
        if not self.quitting:
            overview = self.open_overview()
            self.check_first_window()
            if walk.wants_reminder and walk.result is not None:
                overview.turn_reminders_on()

    def _post_next_letter(self) -> None:
        environment = self.environment
        assert environment is not None

        def work(_report: object, _cancel: object) -> str:
            return environment.post_next_letter()

        tasks.start(work, self._show_letter, lambda error: log.warning("demo PIN: %s", error))

    def _show_letter(self, note: str) -> None:
        self.session.demo_note = note
        for window in (self.wizard, self.overview):
            if window is not None:
                window.set_demo_note(note)

    def quit(self) -> None:
        """Ctrl+Q or File > Quit in any window. A running request was asked about by the
        window it runs in before this is called."""
        self.quitting = True
        for window in QApplication.topLevelWidgets():
            window.hide()
        self.quit_app()


SettingsLoader = Callable[[], "EcmtSettings"]


def launch(
    settings: SettingsLoader | None,
    demo: bool = False,
    start: StartValues | None = None,
) -> tuple[QApplication, Desktop]:
    """Everything `ecmt` does before its event loop: the application, demo mode, and the
    first window on screen. `settings` reads the full settings when the app is first
    needed (off the GUI thread); `start` holds what the first window needs at once."""
    qt_app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(qt_app, QApplication)
    qt_app.setApplicationName("ecmt")
    qt_app.setApplicationDisplayName("ePractitioner certificate")
    qt_app.setQuitOnLastWindowClosed(True)
    environment = None
    if demo:
        from .demo import start_demo

        environment = start_demo()
        demo_settings = environment.settings
        settings = lambda: demo_settings  # noqa: E731 - the demo's, made just above
        start = StartValues(demo_settings.state_dir, demo_settings.store or "")
    assert settings is not None
    load = settings

    def make() -> tuple[App, Path | None]:
        from ..app import build_app
        from ..logsetup import configure

        loaded = load()
        return build_app(loaded), configure(loaded.log_dir)

    session = WizardSession(AppSource(make), None, environment.letter if environment else None)
    desktop = Desktop(session, start or start_values(), environment)
    install_fatal_handler(session)
    quit_on_signals(qt_app)
    desktop.show_first_window()
    return qt_app, desktop


def run_gui(
    settings: SettingsLoader | None, demo: bool = False, start: StartValues | None = None
) -> int:
    """The wizard when a renewal is due (the overview after it), else the overview."""
    qt_app, desktop = launch(settings, demo, start)
    try:
        return qt_app.exec()
    finally:
        tasks.wait_all()
        if desktop.session.source.built:  # the kept-alive connections to the service
            desktop.session.app.close()
        if desktop.environment is not None:
            desktop.environment.close()
