"""Starting the desktop app: settings, log, services, then the overview or the wizard.

One handler turns any exception that escapes a slot into an ECMT-UNEXPECTED message
with the log file's path, instead of a crash.
"""

from __future__ import annotations

import logging
import signal
import sys
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from ..app import build_app
from ..config import EcmtSettings
from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import CertState
from ..logsetup import configure
from . import tasks
from .session import WizardSession

log = logging.getLogger(__name__)


def install_fatal_handler(session: WizardSession, parent: QWidget | None) -> None:
    def handler(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.error("unexpected error", exc_info=(kind, value, tb))
        error = EcmtError(ErrorCode.UNEXPECTED, kind.__name__)
        session.last_error = error
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Something went wrong")
        box.setText(f"{error.title} ({error.code.value})")
        box.setInformativeText(f"{error.advice}\n\nThe log file is {session.log_path}")
        box.show()

    sys.excepthook = handler


def _quit_on_signals(qt_app: QApplication) -> None:
    """Ctrl-C or SIGTERM end the event loop normally, so the demo's temporary folder (with
    its CA keys) is removed. Python handles signals only between bytecodes, and Qt's loop
    runs in C: a short timer gives Python those moments."""
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: qt_app.quit())
    ticker = QTimer(qt_app)
    ticker.timeout.connect(lambda: None)
    ticker.start(250)


def needs_renewal(session: WizardSession) -> bool:
    """Open the wizard unless a certificate here is valid and outside its renewal window."""
    try:
        states = {s.state for s in session.app.status.certificates()}
    except EcmtError:
        return True
    return CertState.VALID not in states


def run_gui(settings: EcmtSettings | None, demo: bool = False) -> int:
    """The wizard when a renewal is due (the overview after it), else the overview."""
    from .wizard import RenewalWizard

    qt_app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(qt_app, QApplication)
    qt_app.setApplicationName("ecmt")
    qt_app.setApplicationDisplayName("ePractitioner certificate")
    environment = None
    if demo:
        from .demo import start_demo

        environment = start_demo()
        settings = environment.settings
    assert settings is not None
    log_path = configure(settings.log_dir)
    session = WizardSession(
        build_app(settings), log_path, environment.letter if environment else None
    )
    windows: dict[str, QWidget] = {}

    def open_overview() -> None:
        from .overview import OverviewWindow  # built when first needed, after the wizard

        overview = windows.get("overview")
        if not isinstance(overview, OverviewWindow):
            overview = OverviewWindow(session, open_wizard)
            windows["overview"] = overview
        overview.refresh()
        overview.show()
        overview.raise_()

    def open_wizard() -> None:
        wizard = RenewalWizard(session, defer=True)
        wizard.finished.connect(lambda _result: open_overview())
        windows["wizard"] = wizard
        wizard.show()

    install_fatal_handler(session, None)
    _quit_on_signals(qt_app)
    if needs_renewal(session):
        open_wizard()
    else:
        open_overview()
    try:
        return qt_app.exec()
    finally:
        tasks.wait_all()
        if environment is not None:
            environment.close()
