"""Dates in words, the same on every system: Qt sets the C library's locale, so
`strftime("%B")` would follow the system language while the rest of the app is English."""

from __future__ import annotations

from datetime import date, datetime

MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)


def days_text(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def long_date(moment: datetime | date) -> str:
    """'28 November 2027'."""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"
