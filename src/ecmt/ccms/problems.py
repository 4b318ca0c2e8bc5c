"""Error answers (RFC 9457 problem+json, or any status from another EST server) to codes.

Everything the answer says is cleaned here (`clean_text`) before it becomes part of an
`EcmtError`, so that no consumer (terminal, log, window) sees raw server text.
"""

from __future__ import annotations

import contextlib
import email.utils
import html
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

from ccms_protocol.wire import MEDIA_PROBLEM, ProblemCode

from ..domain.errors import EcmtError, ErrorCode
from ..domain.text import clean_text

Sent = Literal["pin", "certificate", "none"]
# the request ids this client sends (UUIDs, in X-Request-ID), which the CCMS echoes
_REQUEST_ID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_TAG = re.compile(r"<[^<>]*>")  # stops at the next "<": linear on any input
_QUOTED = 16 * 1024  # of an error page, only the start is worth reading

FROM_SERVER: dict[ProblemCode, ErrorCode] = {
    ProblemCode.AUTH_INVALID: ErrorCode.AUTH_INVALID,
    ProblemCode.AUTH_REQUIRED: ErrorCode.AUTH_REQUIRED,
    ProblemCode.PIN_SUPERSEDED: ErrorCode.PIN_SUPERSEDED,
    ProblemCode.PIN_EXPIRED: ErrorCode.PIN_EXPIRED,
    ProblemCode.PIN_USED: ErrorCode.PIN_USED,
    # the transport sends the PIN again instead; only a second refusal would reach here
    ProblemCode.TOKEN_INVALID: ErrorCode.AUTH_REQUIRED,
    ProblemCode.TOKEN_EXPIRED: ErrorCode.AUTH_REQUIRED,
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


def request_id_or(value: object, own: str) -> str:
    """The server's reference if it has the form of a request id, else our own id: a
    reference is read out to the helpdesk, so it must not carry arbitrary text."""
    text = value.strip() if isinstance(value, str) else ""
    return text if _REQUEST_ID.fullmatch(text) else own


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


def _plain_text(content_type: str, body: bytes) -> str:
    """What a page that is not a problem document says, for the detail line: a proxy's or
    web filter's error page names the real cause more often than its status does."""
    text = body[:_QUOTED].decode("utf-8", errors="replace")
    if "html" in content_type.lower() or text.lstrip()[:1] == "<":
        text = html.unescape(_TAG.sub(" ", _without_scripts(text)))
    return clean_text(text)


def _without_scripts(page: str) -> str:
    """The page without the contents of its script and style elements."""
    lower, at = page.lower(), 0
    kept: list[str] = []
    while True:
        found = [(i, n) for n in ("script", "style") if (i := lower.find("<" + n, at)) >= 0]
        if not found:
            return " ".join([*kept, page[at:]])
        start, name = min(found)
        kept.append(page[at:start])
        close = lower.find("</" + name, start)
        end = lower.find(">", close) if close >= 0 else -1
        if end < 0:
            return " ".join(kept)
        at = end + 1


def error_from_response(
    status: int,
    content_type: str,
    body: bytes,
    headers: Mapping[str, str],
    request_id: str,
    *,
    sent: Sent = "pin",
) -> EcmtError:
    """`sent` names the credentials the request carried: a 401 to a request without a PIN
    cannot mean a wrong PIN."""
    code = _by_status(status)
    text = _plain_text(content_type, body)
    detail = clean_text(f"HTTP {status}: {text}") if text else f"HTTP {status}"
    reference = request_id
    attempts: int | None = None
    if content_type.split(";")[0].strip().lower() == MEDIA_PROBLEM:
        try:
            problem = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: deep nesting
            problem = {}
        if isinstance(problem, dict):
            with contextlib.suppress(ValueError, KeyError):
                code = FROM_SERVER[ProblemCode(str(problem.get("code")))]
            said = clean_text(problem.get("detail") or problem.get("title") or "")
            detail = clean_text(f"HTTP {status} {clean_text(problem.get('code', ''), 64)}: {said}")
            reference = request_id_or(problem.get("reference"), request_id)
            remaining = problem.get("attempts_remaining")
            if isinstance(remaining, int) and not isinstance(remaining, bool):
                attempts = remaining if 0 <= remaining < 100 else None
    if status == 401 and sent != "pin":
        code = ErrorCode.CERT_NOT_ACCEPTED if sent == "certificate" else ErrorCode.AUTH_REQUIRED
    return EcmtError(
        code,
        detail,
        reference=reference,
        attempts_remaining=attempts,
        retry_after=retry_after_seconds(headers.get("Retry-After")),
    )
