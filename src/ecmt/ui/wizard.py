"""The renewal wizard: one page per step, the list of steps at the left, Help with the
helpdesk numbers and "Copy support details" on every page.

Every page is added before the window is shown: QWizard lays out its buttons (Next or
Finish) from the pages it has when a page is entered, so a wizard shown with one page
offers only Finish, and keeps offering it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
    QWizard,
)

from .closing import CloseQuestion, ask_before_closing
from .pages.admin import AdminPage
from .pages.backup import BackupPage
from .pages.base import PageId, StepPage
from .pages.done import DonePage
from .pages.logon import LogonPage
from .pages.overview import OverviewPage
from .pages.request import RequestPage
from .pages.terms import TermsPage
from .pages.version import VersionPage
from .session import WizardSession
from .steps import StepList
from .widgets import FirstPaint, demo_letter, fit_to_screen, helpdesk_lines, info_box

PAGES: tuple[type[StepPage], ...] = (
    AdminPage,
    VersionPage,
    LogonPage,
    OverviewPage,
    TermsPage,
    RequestPage,
    BackupPage,
    DonePage,
)
PREFERRED_SIZE = QSize(860, 640)


def helpdesk_text(session: WizardSession) -> str:
    return "\n".join(helpdesk_lines(session.app.settings.helpdesks)) or "Ask your IT helpdesk."


class RenewalWizard(QWizard):
    def __init__(self, session: WizardSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("renewalWizard")
        self.setWindowTitle("Renew your ePractitioner certificate")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.HaveHelpButton, True)
        self.setOption(QWizard.WizardOption.HaveCustomButton1, True)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)  # all is done
        self.setButtonText(QWizard.WizardButton.CustomButton1, "Copy support &details")
        self.setButtonText(QWizard.WizardButton.HelpButton, "&Help")
        self.customButtonClicked.connect(self._copy_support_details)
        self.helpRequested.connect(self.show_help)
        for which, name in (
            (QWizard.WizardButton.BackButton, "Back"),
            (QWizard.WizardButton.NextButton, "Next"),
            (QWizard.WizardButton.FinishButton, "Finish"),
            (QWizard.WizardButton.CommitButton, "Next"),
            (QWizard.WizardButton.CancelButton, "Cancel"),
            (QWizard.WizardButton.HelpButton, "Help: helpdesk numbers"),
            (QWizard.WizardButton.CustomButton1, "Copy support details"),
        ):
            self.button(which).setAccessibleName(name)
        # focus can land on Cancel when the focused control hides (an error panel's Try
        # again); Enter must then not cancel the whole walk
        cancel = self.button(QWizard.WizardButton.CancelButton)
        if isinstance(cancel, QPushButton):
            cancel.setAutoDefault(False)
        self.first_paint = FirstPaint(self)
        self.pages: dict[PageId, StepPage] = {}
        for page_class in PAGES:
            page = page_class(session)
            self.pages[page.page_id] = page
            self.setPage(int(page.page_id), page)
        self.setStartId(int(PageId.ADMIN))
        self.steps = StepList()
        self.demo_letter: QFrame | None = None
        self.setSideWidget(self._side_panel())
        self.currentIdChanged.connect(self._show_step)
        self.help_box: QMessageBox | None = None
        self.close_question: CloseQuestion | None = None
        self._closing = False
        self.on_quit: Callable[[], None] | None = None  # Ctrl+Q: the desktop quits the app
        quit_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Quit), self)
        quit_key.activated.connect(self._quit)
        help_key = QShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents), self)
        help_key.activated.connect(self.show_help)
        fit_to_screen(self, PREFERRED_SIZE)

    def _side_panel(self) -> QWidget:
        """The steps, and in demo mode the PIN letter under them; scrolls when the screen
        is too short for both. QWizard does not keep the side widget alive: we do."""
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(0, 0, 4, 0)
        layout.addWidget(self.steps)
        if self.session.demo_note:
            self.demo_letter = demo_letter(self.session.demo_note)
            layout.addSpacing(self.fontMetrics().height())
            layout.addWidget(self.demo_letter)
        layout.addStretch(1)
        area = QScrollArea()
        area.setObjectName("sidePanel")
        area.setAccessibleName("Steps" + (" and the demo PIN letter" if self.demo_letter else ""))
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidgetResizable(True)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setWidget(inner)
        pin_width = self.fontMetrics().horizontalAdvance("M" * 15)  # a PIN never wraps
        width = max(self.steps.sizeHint().width(), pin_width if self.demo_letter else 0)
        area.setFixedWidth(width + 2 * self.fontMetrics().height())
        self.side_panel = area
        return area

    def set_demo_note(self, note: str) -> None:
        if self.demo_letter is not None:
            self.demo_letter.findChild(QWidget, "demoLetterText").setText(note)  # type: ignore[union-attr]

    def _show_step(self, page_id: int) -> None:
        if page_id < 0:
            return
        visited = [PageId(i) for i in self.visitedIds() if i > 0]
        self.steps.show_progress(PageId(page_id), visited)

    def page_of(self, page_id: PageId) -> StepPage:
        return self.pages[page_id]

    @property
    def request_page(self) -> RequestPage:
        page = self.pages[PageId.REQUEST]
        assert isinstance(page, RequestPage)
        return page

    # --- closing -----------------------------------------------------------------------

    def reject(self) -> None:
        """Cancel, Escape and the window's close button all arrive here. While a request
        runs, the user is told what closing would mean before anything happens."""
        if self._closing or not self.request_page.busy:
            super().reject()
            return
        self._ask(then=super().reject, quitting=False)

    def after_first_paint(self, callback: Callable[[], None]) -> None:
        """Work the first page starts waits until the window is on screen."""
        self.first_paint.then(callback)

    def untouched(self) -> bool:
        """Still at R-1, where nobody has typed or chosen anything yet."""
        return self.currentId() == int(PageId.ADMIN) and self.close_question is None

    def close_untouched(self) -> None:
        """Give way to the overview: nothing was started, so nothing needs asking."""
        self._closing = True
        self.done(int(QWizard.DialogCode.Rejected))

    def _quit(self) -> None:
        if self.request_page.busy and not self._closing:
            self._ask(then=self._quit_now, quitting=True)
        else:
            self._quit_now()

    def _quit_now(self) -> None:
        self._closing = True
        if self.on_quit is not None:
            self.on_quit()
        else:
            super().reject()

    def _ask(self, then: Callable[[], None], quitting: bool) -> None:
        if self.close_question is not None:
            self.close_question.raise_()
            return

        def answered(close: bool) -> None:
            self.close_question = None
            if close:
                self._closing = True
                self.request_page.stop_then(then)

        self.close_question = ask_before_closing(
            self, self.request_page.request_state(), quitting, answered
        )

    # --- help --------------------------------------------------------------------------

    def _copy_support_details(self, which: int) -> None:
        if which == QWizard.WizardButton.CustomButton1.value:
            QGuiApplication.clipboard().setText(self.session.support_details())

    def show_help(self) -> None:
        if self.help_box is not None and self.help_box.isVisible():
            self.help_box.raise_()
            self.help_box.activateWindow()
            return
        self.help_box = info_box(
            self,
            "Help",
            "If you need help, call:",
            helpdesk_text(self.session),
            self.session.support_details(),
        )
