"""Placeholder until this step's page is written."""

from __future__ import annotations

from .base import PageId, StepPage


class OverviewPage(StepPage):
    page_id = PageId.OVERVIEW

    def enter(self) -> None:
        self.complete = True
