"""Placeholder until this step's page is written."""

from __future__ import annotations

from .base import PageId, StepPage


class RequestPage(StepPage):
    page_id = PageId.REQUEST

    def enter(self) -> None:
        self.complete = True
