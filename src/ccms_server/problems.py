"""The one error type the service layer raises; the HTTP layer renders it as problem+json."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccms_protocol.wire import ProblemCode


@dataclass
class ProblemError(Exception):
    code: ProblemCode
    detail: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.detail or self.code.default_title}"


@dataclass(frozen=True)
class RequestContext:
    """Who is asking, for the audit log and the attempts table."""

    request_id: str
    remote: str | None = None
