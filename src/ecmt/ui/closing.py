"""The question asked when someone closes the wizard (or quits) while a request runs.

It says where things stand in that moment, in words: nothing sent yet, waiting for
approval, or already sent. Keeping on is the default answer, so a stray Enter or Escape
never throws a renewal away. Closing never interrupts an install: the request stops only
where stopping is harmless, else the window closes once the work is done.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


class RequestState(StrEnum):
    IDLE = "idle"
    NOT_SENT = "not sent"  # stopping is harmless: nothing has left this computer
    WAITING = "waiting for approval"  # stopping keeps the request for next time
    SENT = "sent"  # the certificate is being issued, downloaded or installed


CloseQuestion = QMessageBox

_WORDS: dict[RequestState, tuple[str, str, str, str]] = {
    # state: (question, what it means, close button, keep button)
    RequestState.NOT_SENT: (
        "Stop the request and {verb}?",
        "Your request has not been sent yet, so nothing changes: your certificates on "
        "this computer stay as they are, and your PIN is not used.",
        "&Stop and {verb}",
        "&Keep going",
    ),
    RequestState.WAITING: (
        "Stop waiting and {verb}?",
        "Your request is waiting to be approved. If you {verb} now, the request is kept "
        "and picked up the next time you renew. Your certificates on this computer stay "
        "as they are.",
        "Stop waiting and {verb}",
        "&Keep waiting",
    ),
    RequestState.SENT: (
        "Your request has been sent. {Verb} when it is finished?",
        "Your new certificate is being issued, downloaded and installed. Stopping now "
        "could leave it half done, so this program finishes first, usually within a few "
        "seconds, and then {verb}s. If this computer is switched off meanwhile, the next "
        "renewal picks up the certificate already issued.",
        "{Verb} when finished",
        "&Keep the window open",
    ),
}


def ask_before_closing(
    parent: QWidget, state: RequestState, quitting: bool, answered: Callable[[bool], None]
) -> CloseQuestion:
    """Show the question (window-modal, with show(): the request keeps running under it)
    and call `answered(True)` when the user chooses to close."""
    verb = "quit" if quitting else "close"
    words = _WORDS.get(state, _WORDS[RequestState.NOT_SENT])
    question, meaning, close_text, keep_text = (
        text.format(verb=verb, Verb=verb.capitalize()) for text in words
    )
    box = QMessageBox(parent)
    box.setObjectName("closeQuestion")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("A request is running")
    box.setText(question)
    box.setInformativeText(meaning)
    close = box.addButton(close_text, QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton(keep_text, QMessageBox.ButtonRole.RejectRole)
    close.setAccessibleName(close_text.replace("&", ""))
    keep.setAccessibleName(keep_text.replace("&", ""))
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.finished.connect(lambda _code: answered(box.clickedButton() is close))
    box.show()
    return box
