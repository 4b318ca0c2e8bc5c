"""What an error answer may put in an `EcmtError` (ecmt.ccms.problems): cleaned text, a
reference only in the request-id form, the text of a plain error page, and a 401 read in
the light of the credentials the request carried."""

from __future__ import annotations

import json
import unicodedata

import pytest

from ccms_protocol.wire import MEDIA_PROBLEM
from ecmt.ccms import problems
from ecmt.ccms.problems import error_from_response
from ecmt.domain.errors import ErrorCode

RID = "0b8e3f5c-1f0e-4c3e-9a55-6d4f2f0b9a11"
SERVER_REF = "7d9e0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6"
HOSTILE = (
    "\x1b[2K\rInstalled OK\n\x1b[31mCall the helpdesk on 0900 666 666\x1b[0m"
    "\x1b]0;ecmt: done\x07\x07\u202e"
)


def printable(text: str) -> bool:
    return not any(unicodedata.category(c).startswith("C") for c in text)


def problem(**members: object) -> bytes:
    body = {"title": "t", "status": 401, "code": "CCMS-AUTH-INVALID", **members}
    return json.dumps(body).encode()


@pytest.mark.parametrize("member", ["title", "detail", "code"])
def test_problem_text_is_cleaned(member):
    body = problem(**{member: HOSTILE}, reference=SERVER_REF)
    if member == "title":
        body = problem(title=HOSTILE, detail=None, reference=SERVER_REF)
    error = error_from_response(401, MEDIA_PROBLEM, body, {}, RID)
    assert error.detail is not None
    assert printable(error.detail), error.detail
    assert "\x1b" not in error.detail
    assert "Call the helpdesk on 0900 666 666" in error.detail  # words stay, as words


def test_a_long_detail_is_cut():
    error = error_from_response(500, MEDIA_PROBLEM, problem(detail="A" * 12 * 1024), {}, RID)
    assert error.detail is not None
    assert len(error.detail) <= 300
    assert error.detail.endswith("…")


@pytest.mark.parametrize(
    "reference",
    [
        "Call 0900 666 666",
        f"{SERVER_REF}\x1b[31m",
        f"{SERVER_REF}\nInstalled OK",
        "x" * 5000,
        42,
        ["a"],
        "",
    ],
)
def test_a_reference_not_in_request_id_form_is_replaced_by_ours(reference):
    error = error_from_response(401, MEDIA_PROBLEM, problem(reference=reference), {}, RID)
    assert error.reference == RID


def test_request_id_form():
    request_id_or = problems.request_id_or
    assert request_id_or(SERVER_REF, RID) == SERVER_REF
    assert request_id_or(SERVER_REF.upper(), RID) == SERVER_REF.upper()
    assert request_id_or(f" {SERVER_REF} ", RID) == SERVER_REF
    assert request_id_or(SERVER_REF.replace("-", ""), RID) == RID
    assert request_id_or(None, RID) == RID


@pytest.mark.parametrize("count", [True, -1, 10**50, 100])
def test_an_unlikely_attempt_count_is_dropped(count):
    error = error_from_response(401, MEDIA_PROBLEM, problem(attempts_remaining=count), {}, RID)
    assert error.attempts_remaining is None


# --- answers that are not problem documents ------------------------------------------------


def test_plain_text_is_kept_in_the_detail_cleaned():
    body = b"Internal error in module X\r\n\x1b[31mtraceback...\x1b[0m\n"
    error = error_from_response(500, "text/plain", body, {}, RID)
    assert error.code is ErrorCode.SERVER_ERROR
    assert error.detail == "HTTP 500: Internal error in module X traceback..."


def test_an_html_page_gives_its_words_without_markup_scripts_or_styles():
    page = (
        b"<!doctype html><html><head><title>Access denied</title>"
        b"<style>body { color: red }</style><script>var x = '<b>';</script></head>"
        b"<body><h1>Blocked by the web filter</h1><p>Category: &quot;PKI&quot;</p></body></html>"
    )
    error = error_from_response(403, "text/html; charset=utf-8", page, {}, RID)
    assert error.code is ErrorCode.PROTOCOL_ERROR
    assert error.detail == 'HTTP 403: Access denied Blocked by the web filter Category: "PKI"'


def test_a_huge_plain_page_is_cut():
    error = error_from_response(502, "text/plain", b"B" * 64 * 1024, {}, RID)
    assert error.detail is not None
    assert len(error.detail) <= 300


def test_bytes_that_are_not_utf8_do_not_fail():
    error = error_from_response(500, "text/plain", b"\xff\xfe caf\xe9", {}, RID)
    assert error.detail is not None
    assert printable(error.detail)


# --- 401 and the credentials that were sent ------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("", b""),
        ("text/plain", b"Unauthorized"),
        (MEDIA_PROBLEM, problem()),  # CCMS-AUTH-INVALID, but no PIN was sent
        (MEDIA_PROBLEM, problem(code="CCMS-AUTH-REQUIRED")),
    ],
)
def test_a_401_to_a_certificate_is_the_certificate_refused(content_type, body):
    error = error_from_response(401, content_type, body, {}, RID, sent="certificate")
    assert error.code is ErrorCode.CERT_NOT_ACCEPTED


def test_a_401_without_any_credentials_asks_for_a_logon():
    error = error_from_response(401, "", b"", {}, RID, sent="none")
    assert error.code is ErrorCode.AUTH_REQUIRED


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", ErrorCode.AUTH_INVALID),
        (problem(), ErrorCode.AUTH_INVALID),
        (problem(code="CCMS-PIN-USED"), ErrorCode.PIN_USED),
    ],
)
def test_a_401_to_a_pin_keeps_its_meaning(body, expected):
    media = MEDIA_PROBLEM if body else ""
    assert error_from_response(401, media, body, {}, RID, sent="pin").code is expected


def test_other_statuses_to_a_certificate_keep_their_codes():
    body = problem(code="CCMS-CERT-NOT-ACCEPTED", status=403)
    error = error_from_response(403, MEDIA_PROBLEM, body, {}, RID, sent="certificate")
    assert error.code is ErrorCode.CERT_NOT_ACCEPTED
    error = error_from_response(503, "", b"", {}, RID, sent="certificate")
    assert error.code is ErrorCode.SERVICE_UNAVAILABLE
