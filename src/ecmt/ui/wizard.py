"""The renewal wizard: one page per step, Help with the helpdesk numbers, and
"Copy support details" on every page."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QMessageBox, QPushButton, QWidget, QWizard

from .pages.admin import AdminPage
from .pages.base import PageId, StepPage
from .session import WizardSession
from .widgets import demo_letter, info_box


def later_pages() -> tuple[type[StepPage], ...]:
    """R-2 onwards. Imported on demand: the first page can be on screen before them."""
    from .pages.backup import BackupPage
    from .pages.done import DonePage
    from .pages.logon import LogonPage
    from .pages.overview import OverviewPage
    from .pages.request import RequestPage
    from .pages.terms import TermsPage
    from .pages.version import VersionPage

    return (VersionPage, LogonPage, OverviewPage, TermsPage, RequestPage, BackupPage, DonePage)


def helpdesk_text(session: WizardSession) -> str:
    lines = [
        f"{h.name}: {h.phone}" + (f" ({h.serves})" if h.serves else "")
        for h in session.app.settings.helpdesks
    ]
    return "\n".join(lines) or "Ask your IT helpdesk."


class RenewalWizard(QWizard):
    def __init__(
        self, session: WizardSession, parent: QWidget | None = None, *, defer: bool = False
    ) -> None:
        """With `defer`, pages after R-1 are built once the window is up (R-1 keeps Next
        disabled until its own check is done, which is always later)."""
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Renew your ePractitioner certificate")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.HaveHelpButton, True)
        self.setOption(QWizard.WizardOption.HaveCustomButton1, True)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)  # all is done
        self.setButtonText(QWizard.WizardButton.CustomButton1, "Copy support &details")
        self.customButtonClicked.connect(self._copy_support_details)
        self.helpRequested.connect(self.show_help)
        for button, name in (
            (QWizard.WizardButton.BackButton, "Back"),
            (QWizard.WizardButton.NextButton, "Next"),
            (QWizard.WizardButton.FinishButton, "Finish"),
            (QWizard.WizardButton.CommitButton, "Next"),
            (QWizard.WizardButton.CancelButton, "Cancel"),
            (QWizard.WizardButton.HelpButton, "Help: helpdesk numbers"),
            (QWizard.WizardButton.CustomButton1, "Copy support details"),
        ):
            self.button(button).setAccessibleName(name)
        # focus can land on Cancel when the focused control hides (an error panel's Try
        # again); Enter must then not cancel the whole walk
        cancel = self.button(QWizard.WizardButton.CancelButton)
        if isinstance(cancel, QPushButton):
            cancel.setAutoDefault(False)
        self.pages: dict[PageId, StepPage] = {}
        self._add(AdminPage)
        self.setStartId(int(PageId.ADMIN))
        if defer:
            QTimer.singleShot(0, self._add_later_pages)
        else:
            self._add_later_pages()
        self.demo_letter: QWidget | None = None
        if session.demo_note:  # held here: QWizard does not keep the side widget alive
            self.demo_letter = _demo_letter(session.demo_note)
            self.setSideWidget(self.demo_letter)
        # a comfortable first size, not a fixed minimum: QWizard keeps the minimum at what
        # the pages need, which grows with the font (a fixed one squeezed the buttons)
        self.resize(640, 520)
        self.help_box: QMessageBox | None = None

    def _add(self, page_class: type[StepPage]) -> None:
        page = page_class(self.session)
        self.pages[page.page_id] = page
        self.setPage(int(page.page_id), page)

    def _add_later_pages(self) -> None:
        for page_class in later_pages():
            self._add(page_class)

    def page_of(self, page_id: PageId) -> StepPage:
        return self.pages[page_id]

    def _copy_support_details(self, which: int) -> None:
        if which == QWizard.WizardButton.CustomButton1.value:
            QGuiApplication.clipboard().setText(self.session.support_details())

    def show_help(self) -> None:
        self.help_box = info_box(
            self,
            "Help",
            "If you need help, call:",
            helpdesk_text(self.session),
            self.session.support_details(),
        )


def _demo_letter(note: str) -> QWidget:
    panel = demo_letter(note)
    text = panel.findChild(QLabel, "demoLetterText")
    assert text is not None
    # wide enough for a PIN on one line at any font size (a wrapped PIN is misread)
    panel.setFixedWidth(max(220, text.fontMetrics().horizontalAdvance("M" * 16) + 24))
    return panel
