"""Error answers (RFC 9457 problem+json, or any status from another EST server) to codes."""

from __future__ import annotations

import contextlib
import email.utils
import json
from collections.abc import Mapping
from datetime import UTC, datetime

from ccms_server.wire import MEDIA_PROBLEM, ProblemCode

from ..domain.errors import EcmtError, ErrorCode

FROM_SERVER: dict[ProblemCode, ErrorCode] = {
    ProblemCode.AUTH_INVALID: ErrorCode.AUTH_INVALID,
    ProblemCode.AUTH_REQUIRED: ErrorCode.AUTH_REQUIRED,
    ProblemCode.PIN_SUPERSEDED: ErrorCode.PIN_SUPERSEDED,
    ProblemCode.PIN_EXPIRED: ErrorCode.PIN_EXPIRED,
    ProblemCode.PIN_USED: ErrorCode.PIN_USED,
    ProblemCode.ACCOUNT_LOCKED: ErrorCode.ACCOUNT_LOCKED,
    ProblemCode.TERMS_REQUIRED: ErrorCode.TERMS_REQUIRED,
    ProblemCode.TERMS_STALE: ErrorCode.TERMS_STALE,
    ProblemCode.CERT_NOT_ACCEPTED: ErrorCode.CERT_NOT_ACCEPTED,
    ProblemCode.CSR_INVALID: ErrorCode.CSR_REFUSED,
    ProblemCode.RATE_LIMITED: ErrorCode.RATE_LIMITED,
    ProblemCode.UNAVAILABLE: ErrorCode.SERVICE_UNAVAILABLE,
    ProblemCode.INTERNAL_ERROR: ErrorCode.SERVER_ERROR,
    ProblemCode.TLS_REQUIRED: ErrorCode.PROTOCOL_ERROR,
    ProblemCode.REQUEST_INVALID: ErrorCode.PROTOCOL_ERROR,
    ProblemCode.NOT_FOUND: ErrorCode.PROTOCOL_ERROR,
    ProblemCode.METHOD_NOT_ALLOWED: ErrorCode.PROTOCOL_ERROR,
    ProblemCode.REQUEST_TOO_LARGE: ErrorCode.PROTOCOL_ERROR,
    ProblemCode.MEDIA_TYPE_UNSUPPORTED: ErrorCode.PROTOCOL_ERROR,
}


def _by_status(status: int) -> ErrorCode:
    """For servers that speak plain EST and answer without a CCMS code."""
    if status == 401:
        return ErrorCode.AUTH_INVALID
    if status == 407:
        return ErrorCode.PROXY_AUTH
    if status == 429:
        return ErrorCode.RATE_LIMITED
    if status == 503:
        return ErrorCode.SERVICE_UNAVAILABLE
    if status >= 500:
        return ErrorCode.SERVER_ERROR
    return ErrorCode.PROTOCOL_ERROR


def retry_after_seconds(value: str | None, default: int | None = None) -> int | None:
    """`Retry-After` as delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return default
    value = value.strip()
    if value.isascii() and value.isdigit():  # not "³", which isdigit() also takes
        return int(value) if len(value) <= 9 else 999_999_999
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: a year beyond C's long
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, int((when - datetime.now(UTC)).total_seconds()))


def error_from_response(
    status: int, content_type: str, body: bytes, headers: Mapping[str, str], request_id: str
) -> EcmtError:
    code = _by_status(status)
    detail = f"HTTP {status}"
    reference = request_id
    attempts: int | None = None
    if content_type.split(";")[0].strip() == MEDIA_PROBLEM:
        try:
            problem = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: deep nesting
            problem = {}
        if isinstance(problem, dict):
            with contextlib.suppress(ValueError, KeyError):
                code = FROM_SERVER[ProblemCode(str(problem.get("code")))]
            text = problem.get("detail") or problem.get("title", "")
            detail = f"HTTP {status} {problem.get('code', '')}: {text}".strip()
            reference = str(problem.get("reference") or request_id)
            remaining = problem.get("attempts_remaining")
            attempts = remaining if isinstance(remaining, int) else None
    return EcmtError(
        code,
        detail,
        reference=reference,
        attempts_remaining=attempts,
        retry_after=retry_after_seconds(headers.get("Retry-After")),
    )
