"""Placeholder until this step's page is written."""

from __future__ import annotations

from .base import PageId, StepPage


class DonePage(StepPage):
    page_id = PageId.DONE

    def enter(self) -> None:
        self.complete = True
