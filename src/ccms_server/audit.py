"""Audit trail: one row per decision that changes what an account can do."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .db.models import AuditEntry


def record(
    session: Session,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> None:
    session.add(
        AuditEntry(actor=actor, action=action, target=target, detail=detail, request_id=request_id)
    )
