"""Step R-5: the Acceptable Use Policy, read in full and accepted on the server.

The server records exactly the version and hash the user was shown, so the text on screen
is always the document that gets accepted. If the terms change while the user reads them
(409 TERMS-STALE), the new version is fetched and shown instead of an error: the user
simply reads and accepts again. Declining is the wizard's own Cancel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QTextBrowser

from ...domain.errors import EcmtError, ErrorCode
from ...domain.text import clean_lines, clean_text
from ..widgets import TOP_LEFT, Mood, StatusLine, button, label, take_spare_height
from .base import PageId, StepPage

if TYPE_CHECKING:
    from ccms_protocol.wire import TermsDocument


def reflow(text: str) -> str:
    """Join hard-wrapped continuation lines (indented, as in a numbered list), so the text
    wraps to the window at any font size. Only whitespace changes on screen; what is
    accepted is the server's document, by version and hash."""
    lines: list[str] = []
    for line in text.splitlines():
        if line[:1].isspace() and line.strip() and lines and lines[-1].strip():
            lines[-1] += " " + line.strip()
        else:
            lines.append(line.rstrip())
    return "\n".join(lines)


class TermsPage(StepPage):
    page_id = PageId.TERMS

    def build(self) -> None:
        self.heading = label(bold=True, name="Title of the terms")
        self.version = label(name="Version of the terms")
        self.text = QTextBrowser()
        self.text.setAccessibleName("Terms of use text")
        self.text.setAccessibleDescription("Read the terms, then choose I accept, or Cancel.")
        self.text.setOpenLinks(False)
        self.text.setTabChangesFocus(True)  # Tab leaves the text; arrows and PgDn scroll it
        self.text.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.text.setLineWrapMode(QTextBrowser.LineWrapMode.WidgetWidth)
        self.status = StatusLine()
        self.status.hide()
        self.accept_button = button("&I accept", "I accept the terms of use", self._accept)
        self.accept_button.setEnabled(False)
        decline = label("If you do not accept, choose Cancel: nothing is changed.")
        header = QHBoxLayout()
        header.addWidget(self.heading, 1)
        header.addWidget(self.version)
        self.body.addLayout(header)
        self.body.addWidget(self.text, 1)
        self.body.addWidget(self.status)
        row = QHBoxLayout()
        row.addWidget(self.accept_button, 0, TOP_LEFT)
        row.addWidget(decline, 1)
        self.body.addLayout(row)
        take_spare_height(self.layout(), self.body)
        self._accepted: str | None = None  # the version accepted during this visit
        self._again: Callable[[], None] = self._fetch

    def enter(self) -> None:
        terms = self.session.terms
        if terms is None:
            self._fetch()
        else:
            self._show(terms)

    def retry(self) -> None:
        self.errors.clear()
        self._again()

    # --- fetching and showing ---------------------------------------------------------

    def _fetch(self) -> None:
        self._again = self._fetch
        self.accept_button.setEnabled(False)
        self._say("Fetching the terms of use…", Mood.WORKING)
        terms_service = self.session.app.terms

        def work(_report: Callable[[Any], None], _cancel: threading.Event) -> TermsDocument:
            return terms_service.current()

        self.run(work, self._fetched, on_failure=self._failed)

    def _fetched(self, terms: TermsDocument) -> None:
        self.status.hide()
        self._show(terms)

    def _show(self, terms: TermsDocument) -> None:
        self.session.terms = terms
        self.heading.setText(clean_text(terms.title))
        self.version.setText(f"Version {clean_text(terms.version, 40)}")
        shown = reflow(clean_lines(terms.text))  # no control characters from the server
        if self.text.toPlainText() != shown:
            self.text.setPlainText(shown)
        self.accept_button.setEnabled(not self.busy)
        self.complete = self._accepted == terms.version

    # --- accepting --------------------------------------------------------------------

    def _accept(self) -> None:
        terms = self.session.terms
        if terms is None or self.busy:
            return
        self._again = self._accept
        self.accept_button.setEnabled(False)
        self._say("Recording your acceptance…", Mood.WORKING)
        session = self.session
        terms_service = session.app.terms

        def work(_report: Callable[[Any], None], _cancel: threading.Event) -> Any:
            try:
                terms_service.accept(terms, session.credentials, session.identity)
            except EcmtError as error:
                if error.code is not ErrorCode.TERMS_STALE:
                    raise
                return terms_service.current()  # the version the user must read instead
            return None

        self.run(work, lambda newer: self._recorded(terms, newer), on_failure=self._failed)

    def _recorded(self, terms: TermsDocument, newer: TermsDocument | None) -> None:
        if newer is not None:
            self._show(newer)
            self._say(
                f"The terms changed while you were reading them. This is the new version "
                f"({newer.version}): please read it and choose I accept again.",
                Mood.WARNING,
            )
            self.text.setFocus()
            return
        self._accepted = terms.version
        account = self.session.account
        if account is not None:  # so going Back and Next again skips this step
            self.session.account = account.model_copy(
                update={"terms_accepted_version": terms.version}
            )
        self._say(f"You accepted version {terms.version} of the terms.", Mood.OK)
        self.complete = True
        self.go_next()

    def _failed(self, error: EcmtError) -> None:
        self.status.hide()
        self.accept_button.setEnabled(self.session.terms is not None)
        self.show_error(error)

    def _say(self, text: str, mood: Mood) -> None:
        self.status.set(text, mood)
        self.status.show()
