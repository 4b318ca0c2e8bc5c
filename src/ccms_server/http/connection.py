"""One client connection: a deadline for reading each request, and problem+json for requests
that cannot be parsed.

aiohttp waits as long as a client likes for the rest of a request, so a client that drips a
byte at a time holds a connection, and a worker's share of the server, for ever. And it
answers what it cannot parse (a header over 8 KiB, say) in plain text, outside the
application and its error format. Here the whole of a request (with the TLS handshake, for
the first) must arrive within `read_timeout_seconds` of the connection opening or of the
previous answer; an unparsable request gets 400 CCMS-REQUEST-INVALID like any other error.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong

from ccms_protocol.wire import REQUEST_ID_HEADER, ProblemCode, short_reference

from ..problems import ProblemError
from .responses import problem_response

access_log = logging.getLogger("ccms_server.access")
error_log = logging.getLogger("ccms_server.errors")
_numbers = itertools.count(1)


class Connection(web.RequestHandler):
    """aiohttp's request handler with a read deadline and our error format."""

    def __init__(
        self,
        manager: web.Server,
        *,
        loop: asyncio.AbstractEventLoop,
        read_timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(manager, loop=loop, **kwargs)
        self._clock = loop
        self._read_timeout = read_timeout
        # Made when the TCP connection is accepted, before the TLS handshake: it counts too.
        self.read_deadline = loop.time() + read_timeout
        self._timer: asyncio.TimerHandle | None = None
        self._gone = False
        self.number = next(_numbers)  # the access log's conn=: requests that shared it

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._gone = True
        self._disarm()
        super().connection_lost(exc)

    def request_received(self) -> None:
        """The whole request is in: no deadline while it is being answered."""
        self._disarm()

    def answer_ready(self) -> None:
        """The clock for the next request on this connection starts now."""
        self.read_deadline = self._clock.time() + self._read_timeout
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        if self._gone:
            return
        self._timer = self._clock.call_at(self.read_deadline, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        peer = self.transport.get_extra_info("peername") if self.transport else None
        access_log.info(
            "client=%s closed: no complete request within %g s",
            peer[0] if peer else "-",
            self._read_timeout,
        )
        self.force_close()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Answer what aiohttp could not parse or handle, in problem+json.

        The parser's own message can quote the request (an Authorization header, say), so
        neither the answer nor the log repeats it.
        """
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was already under way")
        request_id = str(uuid.uuid4())
        if 400 <= status < 500:
            problem = ProblemError(ProblemCode.REQUEST_INVALID, _parse_error_detail(exc))
        else:
            error_log.error("unexpected error rid=%s", request_id, exc_info=exc)
            problem = ProblemError(ProblemCode.INTERNAL_ERROR)
        access_log.info(
            'rid=%s client=%s "- -" %d epoc=- code=%s ref=%s detail="%s"',
            request_id,
            request.remote or "-",
            problem.code.status,
            problem.code.value,
            short_reference(request_id),
            problem.detail or problem.code.default_title,
        )
        response = problem_response(problem, request_id)
        response.headers[REQUEST_ID_HEADER] = request_id
        response.headers["Server"] = "ccms-server"
        response.force_close()
        return response


def _parse_error_detail(exc: BaseException | None) -> str:
    if isinstance(exc, LineTooLong):
        return "the request line or a header is too long"
    if isinstance(exc, BadHttpMessage) and "too many headers" in exc.message.lower():
        return "the request has too many headers"
    return "the request is not valid HTTP/1.1"
