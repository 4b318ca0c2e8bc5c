"""A wall-clock limit for one request.

`requests`' read timeout counts per socket read, so a server that sends a byte every few
seconds (of the headers or of the body) could hold a request open for ever. A `Deadline`
shuts down the sockets of the request it guards when its time is up; the blocked read
then fails at once, and the transport reports the deadline rather than that failure.

The connections register their sockets through `watch`, on the thread that makes the
request (see `WatchedPool`); a request on another thread is not affected.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool

_current = threading.local()


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sockets: list[Any] = []
        self._expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return self._end - time.monotonic()

    @property
    def passed(self) -> bool:
        return self._expired or self.remaining() <= 0

    def watch(self, sock: Any) -> None:
        with self._lock:
            if self._expired:
                _shut(sock)
            else:
                self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> Deadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:  # a timer already running finds nothing left to shut
            self._sockets.clear()
        _current.deadline = None


def _shut(sock: Any) -> None:
    """Shut the connection down without touching the TLS object the reader is using; a
    socket closed meanwhile has no descriptor any more, and nothing happens."""
    raw = sock if isinstance(sock, socket.socket) else getattr(sock, "socket", None)
    if isinstance(raw, socket.socket):
        with contextlib.suppress(OSError):
            socket.socket.shutdown(raw, socket.SHUT_RDWR)


def watch(sock: Any) -> None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None and sock is not None:
        deadline.watch(sock)


class _WatchedConnection(HTTPSConnection):
    """Registers its socket: the raw one while a proxy tunnel is set up, the TLS one after
    the handshake, and again for each request on a kept-alive connection."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        watch(sock)
        return sock

    def connect(self) -> None:
        super().connect()
        watch(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        watch(self.sock)
        super().request(*args, **kwargs)


class WatchedPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedConnection
