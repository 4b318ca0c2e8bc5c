"""What every step page shares: the "Step N of 7 · R-n" header, an error panel, tasks."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWizard, QWizardPage

from ...domain.errors import EcmtError
from .. import tasks
from ..session import WizardSession
from ..widgets import ErrorPanel, label


class PageId(IntEnum):
    ADMIN = 1
    VERSION = 2
    LOGON = 3
    OVERVIEW = 4
    TERMS = 5
    REQUEST = 6
    BACKUP = 7
    DONE = 8


STEPS: dict[PageId, tuple[str, str]] = {
    PageId.ADMIN: ("R-1", "Administrator check"),
    PageId.VERSION: ("R-2", "Version check"),
    PageId.LOGON: ("R-3", "Log on"),
    PageId.OVERVIEW: ("R-4", "Your account"),
    PageId.TERMS: ("R-5", "Terms of use"),
    PageId.REQUEST: ("R-6", "Request and download"),
    PageId.BACKUP: ("R-7", "Back up the new certificate"),
    PageId.DONE: ("R-8", "Done"),
}
STEP_COUNT = 7


class StepPage(QWizardPage):
    """Subclasses fill `self.body` and set `self.complete`; the wizard calls the hooks."""

    page_id: PageId

    def __init__(self, session: WizardSession) -> None:
        super().__init__()
        self.session = session
        code, title = STEPS[self.page_id]
        self.step_code = code
        self.setTitle(title)
        number = int(self.page_id)
        step = f"Step {number} of {STEP_COUNT} · {code}" if number <= STEP_COUNT else "Finished"
        self.setSubTitle(step)
        layout = QVBoxLayout(self)
        self.step_label: QLabel = label(step, name="Step")
        self.step_label.hide()  # the subtitle shows it; kept for screen readers and tests
        self.body = QVBoxLayout()
        layout.addLayout(self.body)
        layout.addStretch(1)
        self.errors = ErrorPanel()
        self.errors.retry.clicked.connect(self.retry)
        layout.addWidget(self.errors)
        self._complete = False
        self.task: tasks.Task | None = None

    # --- completion -------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        return self._complete

    @complete.setter
    def complete(self, value: bool) -> None:
        if value != self._complete:
            self._complete = value
            self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self._complete

    def initializePage(self) -> None:
        self.session.step_code = self.step_code
        self.errors.clear()
        self.enter()

    # --- hooks for subclasses ----------------------------------------------------------

    def enter(self) -> None:
        """The page is shown (again)."""

    def retry(self) -> None:
        """The error panel's "Try again"; by default, enter the page again."""
        self.errors.clear()
        self.enter()

    # --- helpers ----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.task is not None

    def run(
        self,
        work: Callable[..., Any],
        on_success: Callable[[Any], None],
        on_progress: Callable[[Any], None] | None = None,
        on_failure: Callable[[EcmtError], None] | None = None,
    ) -> tasks.Task:
        """Start `work(report, cancel)` off the GUI thread; errors land in the panel."""
        self.errors.clear()

        def succeeded(result: Any) -> None:
            self.task = None
            on_success(result)

        def failed(error: EcmtError) -> None:
            self.task = None
            self.session.last_error = error
            (on_failure or self.show_error)(error)

        self.task = tasks.start(work, succeeded, failed, on_progress)
        return self.task

    def show_error(self, error: EcmtError, extra: str = "", can_retry: bool = True) -> None:
        self.session.last_error = error
        self.errors.show_error(error, extra, can_retry)

    def go_next(self) -> None:
        wizard = self.wizard()
        if isinstance(wizard, QWizard) and wizard.currentPage() is self:
            wizard.next()
