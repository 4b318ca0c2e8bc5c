"""Placeholder until this step's page is written."""

from __future__ import annotations

from .base import PageId, StepPage


class LogonPage(StepPage):
    page_id = PageId.LOGON

    def enter(self) -> None:
        self.complete = True
