""" "Download and install version X", on R-2 and in the overview: the package the signed
manifest names for this computer, downloaded off the GUI thread with a progress bar,
checked (services/update.py), then handed to the operating system's installer.

The window keeps its own wording for the decision; this panel adds the one button and
says what happened to the package. Failures land in the window's error panel, with codes.
The window is reached through a small `UpdateHost`: R-2's page, or the overview.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QProgressBar, QVBoxLayout, QWidget

from ..domain.errors import EcmtError
from .widgets import Mood, StatusLine, button

if TYPE_CHECKING:
    from ..services.release import ReleaseDecision
    from ..services.update import LaunchResult, UpdatePackage
    from .pages.base import StepPage
    from .session import WizardSession


class UpdateHost(Protocol):
    """What the panel needs of the window it sits in."""

    session: WizardSession

    @property
    def busy(self) -> bool: ...

    def run(
        self,
        work: Callable[..., Any],
        on_success: Callable[[Any], None],
        on_progress: Callable[[Any], None] | None = None,
        on_failure: Callable[[EcmtError], None] | None = None,
    ) -> object: ...

    def show_error(self, error: EcmtError) -> None: ...

    def hold(self, held: bool) -> None:
        """While the package is on its way, the window does not move on (R-2: no Next)."""


def fetch_and_check(
    decision: ReleaseDecision, settings: Any, report: Callable[[Any], None], cancel: threading.Event
) -> UpdatePackage:
    """Off the GUI thread: the download, its size and SHA-256 against the signed manifest."""
    from ..ccms.download import download
    from ..services.update import download_update

    return download_update(
        decision,
        functools.partial(download, settings),
        progress=lambda done, total: report((done, total)),
        cancel=cancel,
    )


def launch(package: UpdatePackage) -> LaunchResult:
    """The operating system's installer (a test puts a recording fake here)."""
    from ..services.update import launch_update

    return launch_update(package)


class PageHost:
    """R-2 as the panel's host: Next waits while the package is on its way."""

    def __init__(self, page: StepPage) -> None:
        self.page = page
        self.session = page.session
        self._was_complete = False

    @property
    def busy(self) -> bool:
        return self.page.busy

    def run(self, *args: Any) -> object:
        return self.page.run(*args)

    def show_error(self, error: EcmtError) -> None:
        self.page.show_error(error)

    def hold(self, held: bool) -> None:
        if held:
            self._was_complete = self.page.complete
            self.page.complete = False
        else:
            self.page.complete = self._was_complete


class UpdatePanel(QWidget):
    def __init__(self, host: UpdateHost) -> None:
        super().__init__()
        self.host = host
        self.decision: ReleaseDecision | None = None
        self.start = button("Download and &install", "Download and install", self.download)
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Download progress")
        self.outcome = StatusLine()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.start, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.bar)
        layout.addWidget(self.outcome)
        self.offer(None)

    def offer(self, decision: ReleaseDecision | None) -> None:
        """Show the button when the verified manifest has a package for this computer."""
        usable = decision is not None and decision.verdict != "fine" and decision.artifact
        self.decision = decision if usable else None
        self.setVisible(bool(usable))
        self.bar.hide()
        self.outcome.hide()
        if decision is not None and usable:
            version = decision.latest_version
            self.start.setText(f"Download and &install version {version}")  # Alt+I
            self.start.setAccessibleName(f"Download and install version {version}")
            self.start.setEnabled(True)

    def download(self) -> None:
        decision = self.decision
        if decision is None or self.host.busy:
            return
        self.host.hold(True)
        self.start.setEnabled(False)
        self.bar.setRange(0, 0)
        self.bar.show()
        self.outcome.set("Downloading the new version…", Mood.WORKING)
        self.outcome.show()
        settings = self.host.session.app.settings
        self.host.run(
            lambda report, cancel: fetch_and_check(decision, settings, report, cancel),
            self._downloaded,
            self._progress,
            self._failed,
        )

    def _progress(self, value: tuple[int, int]) -> None:
        done, total = value
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(1000 * done / total) if total else 0)
        percent = done * 100 // max(total, 1)
        self.bar.setFormat(f"{percent} %  ({done // 1024} of {total // 1024} KB)")

    def _failed(self, error: EcmtError) -> None:
        self.bar.hide()
        self.outcome.set("The new version was not installed.", Mood.PROBLEM)
        self.start.setEnabled(True)
        self.host.show_error(error)
        self.host.hold(False)

    def _downloaded(self, package: UpdatePackage) -> None:
        from ..services.update import LaunchOutcome

        self.bar.hide()
        try:
            result = launch(package)
        except EcmtError as error:
            self._failed(error)
            return
        if result.outcome is LaunchOutcome.STARTED:
            self.outcome.set(
                "The installer has started. This program closes now so that it can be "
                "replaced; start it again when the installer has finished.",
                Mood.OK,
            )
            QApplication.quit()
            return
        self.start.setEnabled(True)
        self.host.hold(False)
        if result.outcome is LaunchOutcome.OPENED:
            self.outcome.set(
                "The new version is open in Finder. Drag Certificate Manager to Applications, "
                "then start it again.",
                Mood.OK,
            )
        elif result.outcome is LaunchOutcome.CANCELLED:
            self.outcome.set(
                "The new version was not installed: permission to install was not given.",
                Mood.WARNING,
            )
        else:
            self.outcome.set(
                f"The new version was downloaded and checked. It is saved at {result.path}. "
                "Install it with your system's package tools, or ask your IT.",
                Mood.OK,
            )


class WindowHost:
    """A window other than R-2 as the panel's host: its own task, its error panel, and
    what must wait while the package comes."""

    def __init__(
        self,
        session: WizardSession,
        show_error: Callable[[EcmtError], None],
        hold: Callable[[bool], None],
    ) -> None:
        self.session = session
        self._show_error = show_error
        self._hold = hold
        self.task: object | None = None

    @property
    def busy(self) -> bool:
        return self.task is not None

    def run(
        self,
        work: Callable[..., Any],
        on_success: Callable[[Any], None],
        on_progress: Callable[[Any], None] | None = None,
        on_failure: Callable[[EcmtError], None] | None = None,
    ) -> object:
        from . import tasks

        def done(result: Any) -> None:
            self.task = None
            on_success(result)

        def failed(error: EcmtError) -> None:
            self.task = None
            self.session.last_error = error
            (on_failure or self.show_error)(error)

        self.task = tasks.start(work, done, failed, on_progress)
        return self.task

    def show_error(self, error: EcmtError) -> None:
        self._show_error(error)

    def hold(self, held: bool) -> None:
        self._hold(held)


class UpdateRow(QWidget):
    """The overview's offer of a newer version: shown when the signed manifest offers (or
    requires) one with a package for this computer; the same download as R-2's."""

    def __init__(self, host: UpdateHost) -> None:
        super().__init__()
        self.session = host.session
        self.note = StatusLine()
        self.panel = UpdatePanel(host)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.panel)
        self.hide()
        self.checked = False
        self.release: object | None = None  # the verified decision, once it is known

    def check(self) -> None:
        """Once: the service's signed manifest, off the GUI thread. Unreachable or
        unverified only means no offer here (R-2 and Check my connection explain)."""
        if self.checked:
            return
        self.checked = True
        session = self.session

        def work(_report: object, _cancel: object) -> object:
            from .pages.version import check_release

            return check_release(session.app)

        from . import tasks

        tasks.start(work, self._known, lambda error: None)

    def _known(self, decision: object) -> None:
        from ..services.release import ReleaseDecision

        self.release = decision
        if not isinstance(decision, ReleaseDecision) or decision.verdict == "fine":
            return
        self.panel.offer(decision)
        if self.panel.isHidden():  # no package for this computer: R-2 says more
            return
        if decision.verdict == "offer":
            words = f"A newer version, {decision.latest_version}, is available."
            mood = Mood.OK
        else:
            words = (
                f"This version ({decision.running_version}) is too old to renew "
                f"certificates: install version {decision.latest_version}."
            )
            mood = Mood.WARNING
        self.note.set(words, mood)
        self.show()
