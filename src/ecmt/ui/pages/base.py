"""What every step page shares: the "Step N of 7 · R-n" header, an error panel, tasks."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget, QWizard, QWizardPage

from ...domain.errors import EcmtError
from .. import tasks
from ..session import WizardSession
from ..widgets import ErrorPanel


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


def step_title(page_id: PageId) -> str:
    """One header line, "Step 3 of 7 · R-3: Log on", that a user can read out as it is;
    the page after the seven steps says that they are done."""
    code, title = STEPS[page_id]
    if int(page_id) > STEP_COUNT:
        return "Done: all seven steps are complete"
    return f"Step {int(page_id)} of {STEP_COUNT} · {code}: {title}"


def usable(widget: QWidget) -> bool:
    """A control the keyboard can reach now: seen, enabled, and a Tab stop."""
    return (
        widget.isVisible()
        and widget.isEnabled()
        and bool(widget.focusPolicy() & Qt.FocusPolicy.TabFocus)
    )


class StepPage(QWizardPage):
    """Subclasses fill `self.body` and set `self.complete`; the wizard calls the hooks."""

    page_id: PageId

    def __init__(self, session: WizardSession) -> None:
        super().__init__()
        self.session = session
        self.step_code = STEPS[self.page_id][0]
        self.setTitle(step_title(self.page_id))
        layout = QVBoxLayout(self)
        self.body = QVBoxLayout()
        layout.addLayout(self.body)
        self.errors = ErrorPanel()  # right below what failed, not at the far bottom
        self.errors.retry.clicked.connect(self.retry)
        layout.addWidget(self.errors)
        layout.addStretch(1)
        self._complete = False
        self._watching_pages = False
        self._built = False
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
            if value:
                self.place_focus()

    def isComplete(self) -> bool:
        return self._complete

    def build(self) -> None:
        """Make the page's own widgets. Called when the page is first entered: the wizard
        shows its first page without building the seven others. Settings QWizard reads
        before a page is entered (commit page, final page, button texts) stay in
        `__init__`."""

    def ensure_built(self) -> None:
        if not self._built:
            self._built = True
            self.build()

    def initializePage(self) -> None:
        self.ensure_built()
        self.session.step_code = self.step_code
        self.errors.clear()
        wizard = self.wizard()
        if wizard is not None and not self._watching_pages:
            wizard.currentIdChanged.connect(self._shown)
            self._watching_pages = True
        self.enter()

    # --- focus ------------------------------------------------------------------------

    def _shown(self, page_id: int) -> None:
        if page_id == int(self.page_id):
            self.shown()
            self.place_focus()

    def place_focus(self) -> None:
        """QWizard gives the new page's first focusable child the focus even when it is
        hidden (the error panel's Try again, made before the page's own controls): a
        screen reader then announces a button nobody sees, and Enter or Space presses it.
        Stranded focus goes to the first visible control of the page, else to Next (or
        Finish), else to the page itself, where Enter still reaches the default button."""
        wizard = self.wizard()
        if wizard is None or wizard.currentPage() is not self:
            return
        focus = QApplication.focusWidget()
        if focus is not None and focus is not self and usable(focus) and wizard.isAncestorOf(focus):
            return
        widget = self.nextInFocusChain()
        while widget is not None and widget is not self:
            if self.isAncestorOf(widget) and usable(widget):
                widget.setFocus(Qt.FocusReason.TabFocusReason)
                return
            widget = widget.nextInFocusChain()
        for which in (QWizard.WizardButton.CommitButton, QWizard.WizardButton.NextButton):
            button = wizard.button(which)
            if usable(button):
                button.setFocus(Qt.FocusReason.TabFocusReason)
                return
        finish = wizard.button(QWizard.WizardButton.FinishButton)
        (finish if usable(finish) else self).setFocus(Qt.FocusReason.OtherFocusReason)

    # --- hooks for subclasses ----------------------------------------------------------

    def enter(self) -> None:
        """The page is entered going forward (QWizard's initializePage)."""

    def shown(self) -> None:
        """The page is on screen: going forward, and also after Back (which QWizard does
        not announce to the page it returns to)."""

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

        wizard = self.wizard()
        later = getattr(wizard, "after_first_paint", None)  # the wizard's first page waits
        self.task = tasks.start(work, succeeded, failed, on_progress, later)
        return self.task

    def show_error(self, error: EcmtError, extra: str = "", can_retry: bool = True) -> None:
        self.session.last_error = error
        self.errors.show_error(error, extra, can_retry)

    def go_next(self) -> None:
        wizard = self.wizard()
        if isinstance(wizard, QWizard) and wizard.currentPage() is self:
            wizard.next()
