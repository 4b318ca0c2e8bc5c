"""Placeholder until this step's page is written."""

from __future__ import annotations

from .base import PageId, StepPage


class VersionPage(StepPage):
    page_id = PageId.VERSION

    def enter(self) -> None:
        self.complete = True
