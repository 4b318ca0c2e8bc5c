"""Response builders: problem+json for every error, base64 bodies for EST."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ccms_protocol.wire import MEDIA_PROBLEM, ProblemCode

from ..csr import encode_base64_body
from ..problems import ProblemError

BASIC_CHALLENGE = 'Basic realm="CCMS", charset="UTF-8"'


def problem_response(problem: ProblemError, request_id: str) -> web.Response:
    code = problem.code
    body: dict[str, Any] = {
        "type": f"urn:ccms:problem:{code.value.removeprefix('CCMS-').lower()}",
        "title": code.default_title,
        "status": code.status,
        "code": code.value,
        "reference": request_id,
    }
    if problem.detail:
        body["detail"] = problem.detail
    body.update(problem.extra)
    headers = dict(problem.headers)
    if code.status == 401:
        headers.setdefault("WWW-Authenticate", BASIC_CHALLENGE)
    return web.Response(
        status=code.status,
        body=json.dumps(body).encode(),
        content_type=MEDIA_PROBLEM,
        headers=headers,
    )


def base64_response(der: bytes, content_type: str) -> web.Response:
    """An EST body: base64 DER; the transfer-encoding header is for RFC 7030-era clients."""
    response = web.Response(
        status=200,
        body=encode_base64_body(der),
        headers={"Content-Transfer-Encoding": "base64", "Cache-Control": "no-store"},
    )
    response.headers["Content-Type"] = content_type
    return response


def json_response(payload: str | bytes, status: int = 200) -> web.Response:
    body = payload.encode() if isinstance(payload, str) else payload
    return web.Response(
        status=status,
        body=body,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def http_exception_problem(exc: web.HTTPException) -> ProblemError:
    """Map aiohttp's own errors (unknown route, wrong method, body too big) to our codes."""
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return ProblemError(ProblemCode.REQUEST_TOO_LARGE, "the request body is too large")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allow = ", ".join(sorted(exc.allowed_methods))
        return ProblemError(ProblemCode.METHOD_NOT_ALLOWED, headers={"Allow": allow})
    if isinstance(exc, web.HTTPNotFound):
        return ProblemError(ProblemCode.NOT_FOUND)
    return ProblemError(ProblemCode.REQUEST_INVALID, exc.reason)
