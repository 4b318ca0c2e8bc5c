"""Placeholder until this step's page is written."""

from __future__ import annotations

from .base import PageId, StepPage


class BackupPage(StepPage):
    page_id = PageId.BACKUP

    def enter(self) -> None:
        self.complete = True
