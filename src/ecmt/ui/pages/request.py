"""Step R-6: request, download and install the new certificate, stage by stage.

The renewal starts by itself when the page is entered, and never twice: a finished
renewal is kept in the session, a running one is left to finish. Stop works only while
stopping is harmless: before the request is sent (nothing is kept), and while waiting for
approval (the service keeps the request in its journal and picks it up next time). A
failure marks its stage and "Try again" re-runs the renewal, which resumes from the
journal, so a certificate already issued is not requested twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QWizard

from ...domain.errors import EcmtError, ErrorCode
from ...domain.states import RenewalStage
from ..closing import RequestState
from ..widgets import TOP_LEFT, Checklist, Mood, button, label, scrolling, take_spare_height
from .base import PageId, StepPage

if TYPE_CHECKING:
    from ...services.renewal import RenewalResult

log = logging.getLogger(__name__)
STAGES = tuple(RenewalStage)
Update = tuple[RenewalStage, str | None]


def stage_words(stage: RenewalStage) -> str:
    return stage.value[:1].upper() + stage.value[1:]


class RequestPage(StepPage):
    page_id = PageId.REQUEST

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.setCommitPage(True)  # Back is disabled once the certificate is installed
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Next >")
        self.current: RenewalStage | None = None
        self._watching_wizard = False
        self._stop_when_harmless = False

    def build(self) -> None:
        area, content = scrolling("Progress of the request")
        self.body.addWidget(area)
        take_spare_height(self.layout(), self.body)
        content.addWidget(
            label(
                "Your new certificate is being requested, downloaded and installed. "
                "This usually takes less than a minute."
            )
        )
        self.stages = Checklist([(s.value, stage_words(s)) for s in STAGES], "Progress")
        content.addWidget(self.stages)
        self.stop_button = button("&Stop", "Stop the request", self._stop)
        self.stop_note = label(name="About stopping")
        row = QHBoxLayout()
        row.addWidget(self.stop_button, 0, TOP_LEFT)
        row.addWidget(self.stop_note, 1)
        content.addLayout(row)
        self.outcome = label(name="Outcome")
        content.addWidget(self.outcome)
        content.addStretch(1)

    def initializePage(self) -> None:
        wizard = self.wizard()
        wizard.button(QWizard.WizardButton.CommitButton).setAccessibleName("Next")
        if not self._watching_wizard:  # closing the wizard stops what can still stop
            wizard.rejected.connect(self._stop)
            self._watching_wizard = True
        super().initializePage()

    def enter(self) -> None:
        if self.session.result is not None:
            self._finished(self.session.result)
        elif not self.busy:
            self._start()

    def cleanupPage(self) -> None:
        """Back while running: stop if that is still harmless (see the module docstring)."""
        self._stop()

    # --- running ----------------------------------------------------------------------

    def _start(self) -> None:
        session = self.session
        from ...services.renewal import RenewalRequest

        request = RenewalRequest(  # the account names the CSR's subject, for any CA
            session.epoc or "",
            credentials=session.credentials,
            current=session.identity,
            account=session.account,
        )
        renewal, status = session.app.renewal, session.app.status
        for stage in STAGES:
            self.stages.set(stage.value, stage_words(stage), Mood.WAITING)
        self.current = None
        self._stop_when_harmless = False
        self.outcome.clear()
        self.stop_button.show()
        self.stop_note.show()
        self._stoppable(True, "You can stop until the request is sent.")

        def work(report: Callable[[Any], None], cancel: threading.Event) -> RenewalResult:
            result = renewal.renew(request, lambda stage, note: report((stage, note)), cancel)
            try:
                status.remember_cas(list(result.identity.chain))
            except OSError as exc:  # only a cache: the certificate is installed regardless
                log.warning("could not remember the CA chain: %s", exc.strerror)
            return result

        self.run(work, self._finished, self._progress, self._failed)
        QTimer.singleShot(0, self._hold_back)  # after QWizard has updated its buttons

    def _progress(self, update: Update) -> None:
        stage, note = update
        index = STAGES.index(stage)
        for earlier in STAGES[:index]:
            self._mark_done(earlier)
        words = stage_words(stage)
        self.stages.set(stage.value, f"{words}: {note}" if note else words, Mood.WORKING)
        self.current = stage
        if stage is RenewalStage.WAITING_FOR_APPROVAL:
            self._stoppable(
                True,
                "Your request is waiting to be approved. If you stop waiting, the "
                "request is kept and picked up the next time you renew.",
            )
            if self._stop_when_harmless:  # the user chose to close: now it can stop
                self._stop()
        elif index >= STAGES.index(RenewalStage.SENDING_REQUEST):
            self._stoppable(False, "The request has been sent, so it can no longer be stopped.")

    def _mark_done(self, stage: RenewalStage) -> None:
        if self.stages.mood(stage.value) is Mood.WAITING:  # never reported: it was skipped
            self.stages.set(stage.value, f"{stage_words(stage)}: not needed", Mood.OK)
        elif self.stages.mood(stage.value) is not Mood.OK:
            self.stages.set(stage.value, stage_words(stage), Mood.OK)

    def _stop(self) -> None:
        if self.task is not None and self.stop_button.isEnabled():
            self.task.cancel.set()
            self._stoppable(False, "Stopping…")

    def request_state(self) -> RequestState:
        """Where the running request stands, for the question asked before closing."""
        if self.task is None:
            return RequestState.IDLE
        if self.current is RenewalStage.WAITING_FOR_APPROVAL:
            return RequestState.WAITING
        if self.stop_button.isEnabled():
            return RequestState.NOT_SENT
        return RequestState.SENT

    def stop_then(self, then: Callable[[], None]) -> None:
        """Stop where that is harmless, and call `then` once the request has ended (at
        once when none runs). An install under way is always finished first."""
        task = self.task
        if task is None:
            then()
            return
        self._stop_when_harmless = True  # e.g. sent now, waiting for approval a moment later
        task.when_finished(then)
        self._stop()

    def _stoppable(self, enabled: bool, note: str) -> None:
        self.stop_button.setEnabled(enabled)
        self.stop_note.setText(note)
        waiting = self.current is RenewalStage.WAITING_FOR_APPROVAL
        self.stop_button.setText("&Stop waiting" if waiting else "&Stop")
        self.stop_button.setAccessibleName(
            "Stop waiting for approval" if waiting else "Stop the request"
        )

    def _hold_back(self) -> None:
        wizard = self.wizard()
        if wizard is not None and wizard.currentPage() is self:
            wizard.button(QWizard.WizardButton.BackButton).setEnabled(not self.busy)

    # --- outcomes ---------------------------------------------------------------------

    def _finished(self, result: RenewalResult) -> None:
        self.session.result = result
        for stage in STAGES:
            self._mark_done(stage)
        self.stop_button.hide()
        self.stop_note.hide()
        self.outcome.setText(
            f"✔ Your new certificate is installed in {self.session.app.store_name}."
        )
        self.complete = True
        self.go_next()

    def _failed(self, error: EcmtError) -> None:
        stage = self.current or RenewalStage.GENERATING_KEY
        words = stage_words(stage)
        self.stages.set(stage.value, f"{words}: did not complete", Mood.PROBLEM)
        self._stoppable(False, "")
        self.stop_button.hide()  # "Try again" is the way on; _start shows it again
        extra = f"This happened at the stage “{words}”."
        if error.code is ErrorCode.CANCELLED and stage is RenewalStage.WAITING_FOR_APPROVAL:
            extra += " Your request is kept: it is picked up the next time you renew."
        self.show_error(error, extra)
        self.completeChanged.emit()  # lets QWizard enable Back again
