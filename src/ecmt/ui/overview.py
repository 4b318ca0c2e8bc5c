"""Placeholder until the overview window is written."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMainWindow

from .session import WizardSession


class OverviewWindow(QMainWindow):
    def __init__(self, session: WizardSession, open_wizard: Callable[[], None]) -> None:
        super().__init__()
        self.session = session
        self.open_wizard = open_wizard

    def refresh(self) -> None:
        pass
