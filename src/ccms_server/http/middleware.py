"""Cross-cutting request handling: ids, access log, errors, maintenance, TLS, rate limits."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Middleware

from ccms_protocol.wire import REQUEST_ID_HEADER, ProblemCode, short_reference

from ..problems import ProblemError
from ..ratelimit import RateLimiter
from ..settings import ServerSettings
from .connection import Connection
from .peer import client_address, from_trusted_proxy, is_tls
from .responses import http_exception_problem, problem_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

access_log = logging.getLogger("ccms_server.access")
error_log = logging.getLogger("ccms_server.errors")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

REQUEST_ID = web.RequestKey("request_id", str)
CLIENT = web.RequestKey("client", str)
EPOC = web.RequestKey("epoc", str)
AUTH = web.RequestKey("auth", str)  # how the caller proved itself: pin, token, certificate


def _request_id(request: web.Request) -> str:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    return offered if _SAFE_ID.match(offered) else str(uuid.uuid4())


async def _receive(request: web.Request) -> None:
    """Read the whole body now, so that the connection's read deadline covers it too."""
    try:
        await request.read()
    except ConnectionError:  # the deadline passed and the connection was closed
        raise ProblemError(
            ProblemCode.REQUEST_INVALID, "the request did not arrive in time"
        ) from None
    if isinstance(request.protocol, Connection):
        request.protocol.request_received()


def make_middlewares(
    settings: ServerSettings, limiter: RateLimiter, maintenance_file: Path
) -> list[Middleware]:
    @web.middleware
    async def outermost(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        request_id = _request_id(request)
        request[REQUEST_ID] = request_id
        request[CLIENT] = client_address(request, settings)
        problem: ProblemError | None = None
        try:
            response = await handler(request)
        except ProblemError as raised:
            problem = raised
        except web.HTTPException as exc:
            problem = http_exception_problem(exc)
        except Exception:
            error_log.exception("unexpected error rid=%s", request_id)
            problem = ProblemError(ProblemCode.INTERNAL_ERROR)
        if problem is not None:
            response = problem_response(problem, request_id)
        if isinstance(request.protocol, Connection):
            request.protocol.answer_ready()
        response.headers[REQUEST_ID_HEADER] = request_id
        response.headers["Server"] = "ccms-server"
        access_log.info(
            'rid=%s client=%s "%s %s" %d %.1fms epoc=%s code=%s ref=%s auth=%s conn=%s%s',
            request_id,
            request[CLIENT],
            request.method,
            request.path,
            response.status,
            (time.perf_counter() - started) * 1000,
            request.get(EPOC, "-"),
            problem.code.value if problem else "-",
            short_reference(request_id),
            request.get(AUTH, "-"),
            request.protocol.number if isinstance(request.protocol, Connection) else "-",
            f' detail="{problem.detail}"' if problem and problem.detail else "",
        )
        return response

    @web.middleware
    async def gatekeeper(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not is_tls(request) and not from_trusted_proxy(request, settings):
            raise ProblemError(ProblemCode.TLS_REQUIRED)
        if maintenance_file.exists():
            retry = maintenance_file.read_text().strip() or "300"
            raise ProblemError(
                ProblemCode.UNAVAILABLE,
                "the service is down for maintenance",
                headers={"Retry-After": retry if retry.isdigit() else "300"},
            )
        wait = limiter.take(request[CLIENT])
        if wait:
            raise ProblemError(
                ProblemCode.RATE_LIMITED,
                f"try again in {wait} seconds",
                headers={"Retry-After": str(wait)},
            )
        await _receive(request)
        return await handler(request)

    return [outermost, gatekeeper]
