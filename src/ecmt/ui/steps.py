"""The list of the seven steps at the wizard's left: where the user is, what is done.

The helpdesk asks "which step are you on?"; the answer is on screen in words, with the
step code beside it. The current step is bold with an arrow, done steps are ticked and a
step that was not needed says so: the state never rests on colour or weight alone.
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .pages.base import STEP_COUNT, STEPS, PageId


class StepState(StrEnum):
    TO_DO = "to do"
    CURRENT = "current step"
    DONE = "done"
    SKIPPED = "not needed"


# shorter than the page titles: the list must stay narrow on a small screen at 200%
SHORT = {
    PageId.ADMIN: "Administrator check",
    PageId.VERSION: "Version check",
    PageId.LOGON: "Log on",
    PageId.OVERVIEW: "Your account",
    PageId.TERMS: "Terms of use",
    PageId.REQUEST: "Request certificate",
    PageId.BACKUP: "Backup",
}
_MARK = {
    StepState.TO_DO: "○",
    StepState.CURRENT: "▶",
    StepState.DONE: "✔",
    StepState.SKIPPED: "\u2013",  # an en dash: "not needed"
}


class StepList(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("stepList")
        self.setAccessibleName("Steps")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.rows: dict[PageId, QLabel] = {}
        self.states: dict[PageId, StepState] = {}
        for page_id in list(PageId)[:STEP_COUNT]:
            row = QLabel()
            row.setTextFormat(Qt.TextFormat.PlainText)
            self.rows[page_id] = row
            layout.addWidget(row)
            self.set_state(page_id, StepState.TO_DO)

    def set_state(self, page_id: PageId, state: StepState) -> None:
        row = self.rows.get(page_id)
        if row is None:  # the Done page is not a step
            return
        self.states[page_id] = state
        code, title = STEPS[page_id][0], SHORT[page_id]
        row.setText(f"{_MARK[state]} {code}  {title}")
        font = row.font()
        font.setBold(state is StepState.CURRENT)
        row.setFont(font)
        number = int(page_id)
        row.setAccessibleName(f"Step {number} of {STEP_COUNT}, {code}, {title}: {state.value}")

    def show_progress(self, current: PageId, visited: list[PageId]) -> None:
        """Steps before `current` are done when visited, else not needed; later ones wait."""
        for page_id in self.rows:
            if page_id == current:
                state = StepState.CURRENT
            elif page_id < current:
                state = StepState.DONE if page_id in visited else StepState.SKIPPED
            else:
                state = StepState.TO_DO
            self.set_state(page_id, state)
