"""Placeholder until this step's page is written."""

from __future__ import annotations

from .base import PageId, StepPage


class AdminPage(StepPage):
    page_id = PageId.ADMIN

    def enter(self) -> None:
        self.complete = True
