"""Placeholder until this step's page is written."""

from __future__ import annotations

from .base import PageId, StepPage


class TermsPage(StepPage):
    page_id = PageId.TERMS

    def enter(self) -> None:
        self.complete = True
