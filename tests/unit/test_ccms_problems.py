"""Error answers to codes (ecmt.ccms.problems): problem+json from the CCMS, plain statuses from
other EST servers and proxies, and Retry-After in both of its forms."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from requests.structures import CaseInsensitiveDict

from ccms_protocol.wire import MEDIA_PROBLEM, ProblemCode
from ecmt.ccms.problems import FROM_SERVER, error_from_response, retry_after_seconds
from ecmt.domain.errors import MESSAGES, ErrorCode

RID = "0b8e3f5c-1f0e-4c3e-9a55-6d4f2f0b9a11"
SERVER_REF = "7d9e0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6"


def problem(code: str | None, status: int, **extra: object) -> bytes:
    body: dict[str, object] = {"title": "t", "status": status, **extra}
    if code is not None:
        body["code"] = code
    return json.dumps(body).encode()


# --- problem+json --------------------------------------------------------------------------


def test_every_problem_code_has_a_client_code():
    assert set(FROM_SERVER) == set(ProblemCode)
    assert all(code in MESSAGES for code in FROM_SERVER.values())


@pytest.mark.parametrize("code", list(ProblemCode))
def test_each_problem_code_maps_to_its_entry(code):
    body = problem(code.value, code.status, reference=SERVER_REF, detail="why")
    error = error_from_response(code.status, MEDIA_PROBLEM, body, {}, RID)
    assert error.code is FROM_SERVER[code]
    assert error.reference == SERVER_REF
    assert error.attempts_remaining is None
    assert error.retry_after is None
    assert error.detail == f"HTTP {code.status} {code.value}: why"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (ProblemCode.AUTH_INVALID, ErrorCode.AUTH_INVALID),
        (ProblemCode.PIN_SUPERSEDED, ErrorCode.PIN_SUPERSEDED),
        (ProblemCode.PIN_EXPIRED, ErrorCode.PIN_EXPIRED),
        (ProblemCode.PIN_USED, ErrorCode.PIN_USED),
        (ProblemCode.ACCOUNT_LOCKED, ErrorCode.ACCOUNT_LOCKED),
        (ProblemCode.TERMS_REQUIRED, ErrorCode.TERMS_REQUIRED),
        (ProblemCode.TERMS_STALE, ErrorCode.TERMS_STALE),
        (ProblemCode.CERT_NOT_ACCEPTED, ErrorCode.CERT_NOT_ACCEPTED),
        (ProblemCode.CSR_INVALID, ErrorCode.CSR_REFUSED),
        (ProblemCode.RATE_LIMITED, ErrorCode.RATE_LIMITED),
        (ProblemCode.UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE),
        (ProblemCode.INTERNAL_ERROR, ErrorCode.SERVER_ERROR),
        (ProblemCode.NOT_FOUND, ErrorCode.PROTOCOL_ERROR),
    ],
)
def test_the_contracts_codes(code, expected):
    """The table in ccms-protocol.md, spelled out rather than read back from FROM_SERVER."""
    body = problem(code.value, code.status, reference=SERVER_REF)
    assert error_from_response(code.status, MEDIA_PROBLEM, body, {}, RID).code is expected


def test_attempts_remaining_is_carried():
    body = problem("CCMS-AUTH-INVALID", 401, reference=SERVER_REF, attempts_remaining=2)
    error = error_from_response(401, MEDIA_PROBLEM, body, {}, RID)
    assert error.code is ErrorCode.AUTH_INVALID
    assert error.attempts_remaining == 2
    assert error.reference == SERVER_REF


@pytest.mark.parametrize("value", ["2", 2.5, None, [2]])
def test_attempts_remaining_that_is_not_a_number_is_dropped(value):
    body = problem("CCMS-AUTH-INVALID", 401, attempts_remaining=value)
    assert error_from_response(401, MEDIA_PROBLEM, body, {}, RID).attempts_remaining is None


def test_the_media_type_may_carry_parameters():
    body = problem("CCMS-PIN-USED", 401, reference=SERVER_REF)
    media = f"{MEDIA_PROBLEM}; charset=utf-8"
    assert error_from_response(401, media, body, {}, RID).code is ErrorCode.PIN_USED


def test_without_a_reference_the_request_id_is_the_reference():
    body = problem("CCMS-PIN-USED", 401)
    assert error_from_response(401, MEDIA_PROBLEM, body, {}, RID).reference == RID


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, ErrorCode.AUTH_INVALID),
        (403, ErrorCode.PROTOCOL_ERROR),
        (429, ErrorCode.RATE_LIMITED),
        (500, ErrorCode.SERVER_ERROR),
        (503, ErrorCode.SERVICE_UNAVAILABLE),
    ],
)
@pytest.mark.parametrize("code", [None, "CCMS-SOMETHING-NEW", "", 42])
def test_missing_or_unknown_code_falls_back_by_status(status, expected, code):
    body = problem(code, status, reference=SERVER_REF)  # type: ignore[arg-type]
    error = error_from_response(status, MEDIA_PROBLEM, body, {}, RID)
    assert error.code is expected
    assert error.reference == SERVER_REF


@pytest.mark.parametrize("body", [b"", b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_a_broken_problem_document_falls_back_by_status(body):
    error = error_from_response(503, MEDIA_PROBLEM, body, {}, RID)
    assert error.code is ErrorCode.SERVICE_UNAVAILABLE
    assert error.reference == RID


def test_retry_after_comes_from_the_header():
    body = problem("CCMS-RATE-LIMITED", 429, reference=SERVER_REF)
    error = error_from_response(429, MEDIA_PROBLEM, body, {"Retry-After": "17"}, RID)
    assert error.code is ErrorCode.RATE_LIMITED
    assert error.retry_after == 17


def test_retry_after_header_name_in_any_case():
    """The transport hands over a case-insensitive mapping, as HTTP header names are."""
    headers = CaseInsensitiveDict({"retry-after": "9"})
    error = error_from_response(503, "text/plain", b"down", headers, RID)
    assert error.retry_after == 9


# --- answers that are not problem+json ---------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, ErrorCode.PROTOCOL_ERROR),
        (401, ErrorCode.AUTH_INVALID),
        (403, ErrorCode.PROTOCOL_ERROR),
        (404, ErrorCode.PROTOCOL_ERROR),
        (407, ErrorCode.PROXY_AUTH),
        (415, ErrorCode.PROTOCOL_ERROR),
        (429, ErrorCode.RATE_LIMITED),
        (500, ErrorCode.SERVER_ERROR),
        (502, ErrorCode.SERVER_ERROR),
        (503, ErrorCode.SERVICE_UNAVAILABLE),
        (504, ErrorCode.SERVER_ERROR),
    ],
)
@pytest.mark.parametrize(
    ("content_type", "body", "said"),
    [
        ("text/html", b"<html><body>Service Unavailable</body></html>", ": Service Unavailable"),
        ("", b"", ""),
        # not a problem document: quoted, never read for a code
        ("application/json", b'{"code": "CCMS-PIN-USED"}', ': {"code": "CCMS-PIN-USED"}'),
    ],
)
def test_plain_statuses(status, expected, content_type, body, said):
    error = error_from_response(status, content_type, body, {}, RID)
    assert error.code is expected
    assert error.reference == RID
    assert error.detail == f"HTTP {status}{said}"
    assert error.attempts_remaining is None


def test_plain_503_with_retry_after():
    error = error_from_response(503, "text/html", b"", {"Retry-After": "120"}, RID)
    assert (error.code, error.retry_after) == (ErrorCode.SERVICE_UNAVAILABLE, 120)


# --- Retry-After ---------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "seconds"), [("0", 0), ("5", 5), (" 120 ", 120), ("3600", 3600)])
def test_retry_after_in_seconds(value, seconds):
    assert retry_after_seconds(value) == seconds


def test_retry_after_as_an_http_date():
    when = datetime.now(UTC) + timedelta(seconds=90)
    seconds = retry_after_seconds(format_datetime(when, usegmt=True))
    assert seconds is not None
    assert 85 <= seconds <= 90


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850 form
        "Sun Nov  6 08:49:37 1994",  # obsolete asctime form, no zone: UTC
    ],
)
def test_a_date_in_the_past_means_now(value):
    assert retry_after_seconds(value) == 0


@pytest.mark.parametrize(
    "value", ["soon", "-5", "1.5", "5s", "Mon, 99 Foo 2020 99:99:99 GMT", "tomorrow 9am"]
)
def test_garbage_gives_the_default(value):
    assert retry_after_seconds(value) is None
    assert retry_after_seconds(value, 30) == 30


@pytest.mark.parametrize("value", [None, "", "   "])
def test_absent_gives_the_default(value):
    assert retry_after_seconds(value, 30) == 30
