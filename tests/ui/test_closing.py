"""Closing the wizard while a request runs: the question says where things stand, keeping
on is the default, and closing stops only where that is harmless."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from test_pages_r5_done import WAIT, installed, log_on, open_at, request_page, waiting_wizard

from ecmt.domain.models import RenewalStage
from ecmt.ui.closing import RequestState
from ecmt.ui.pages.base import PageId
from ecmt.ui.session import WizardSession
from support import Harness


def test_closing_while_waiting_asks_and_keep_waiting_is_the_default(
    qtbot: QtBot,
    server_factory: Callable[..., Harness],
    session_for: Callable[..., WizardSession],
) -> None:
    server = server_factory(enroll_requires_approval=True, approval_retry_after_seconds=1)
    session = session_for(server)
    wizard, page = waiting_wizard(qtbot, server, session)
    assert page.request_state() is RequestState.WAITING
    wizard.reject()  # Escape, Cancel and the close button all land here
    box = wizard.close_question
    assert isinstance(box, QMessageBox)
    assert box.isVisible()
    assert box.text() == "Stop waiting and close?"
    assert "picked up the next time you renew" in box.informativeText()
    assert box.defaultButton().text() == "&Keep waiting"
    box.defaultButton().click()
    assert wizard.isVisible()
    assert page.busy

    wizard.reject()
    box = wizard.close_question
    assert box is not None
    close = next(b for b in box.buttons() if b is not box.defaultButton())
    close.click()
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=WAIT)
    assert not page.busy
    assert installed(session) == []
    (pending,) = server.admin.list_requests("pending")  # kept for the next renewal
    assert pending["status"] == "pending"


def test_closing_when_nothing_runs_closes_at_once(
    qtbot: QtBot, server: Harness, session: WizardSession
) -> None:
    wizard = open_at(qtbot, session, PageId.ADMIN)
    wizard.reject()
    assert wizard.close_question is None
    assert not wizard.isVisible()


def test_close_when_finished_stops_once_the_request_waits_for_approval(
    qtbot: QtBot,
    server_factory: Callable[..., Harness],
    session_for: Callable[..., WizardSession],
) -> None:
    """Closing asked while the request was being sent: when it then turns out to wait
    for approval, the wizard stops waiting (harmless: the request is kept) and closes,
    instead of holding the window open until someone approves it."""
    server = server_factory(enroll_requires_approval=True, approval_retry_after_seconds=30)
    session = session_for(server)
    log_on(server, session)
    wizard = open_at(qtbot, session, PageId.REQUEST)
    page = request_page(wizard)
    closed: list[RequestState] = []

    def sending(update: object) -> None:  # runs after the page has shown this stage
        if isinstance(update, tuple) and update[0] is RenewalStage.SENDING_REQUEST:
            closed.append(page.request_state())
            page.stop_then(lambda: closed.append(RequestState.IDLE))

    assert page.task is not None
    page.task.signals.progress.connect(sending)
    qtbot.waitUntil(lambda: len(closed) == 2, timeout=WAIT)  # long before the 30 s retry
    assert closed == [RequestState.SENT, RequestState.IDLE]
    assert not page.busy
    assert installed(session) == []
    (pending,) = server.admin.list_requests("pending")
    assert pending["status"] == "pending"
