"""Running the service: in the foreground for `serve`, or on a background thread in-process."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aiohttp import web

from .bootstrap import Services
from .db.engine import dispose_engine
from .http.app import make_app, make_tls_context
from .http.connection import Connection

WORKER_THREADS = 16


@dataclass(frozen=True)
class Listening:
    host: str
    port: int
    tls: bool

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"


class _Site(web.BaseSite):
    """A TCP listener like aiohttp's TCPSite, whose connections are our `Connection`s and
    whose TLS handshakes must finish within the read deadline."""

    def __init__(
        self,
        runner: web.AppRunner,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None,
        read_timeout: float,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context, backlog=256)
        self._where = (host, port)
        self._read_timeout = read_timeout

    @property
    def name(self) -> str:
        return Listening(*self._where, self._ssl_context is not None).url

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        manager = self._runner.server
        assert manager is not None, "runner.setup() comes first"

        def connection() -> Connection:
            return Connection(manager, loop=loop, read_timeout=self._read_timeout, access_log=None)

        self._server = await loop.create_server(
            connection,
            *self._where,
            ssl=self._ssl_context,
            backlog=self._backlog,
            ssl_handshake_timeout=self._read_timeout if self._ssl_context else None,
        )


async def _start(
    services: Services, host: str, port: int, tls: bool
) -> tuple[web.AppRunner, Listening]:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="ccms"))
    runner = web.AppRunner(make_app(services), access_log=None, handle_signals=False)
    await runner.setup()
    site = _Site(
        runner,
        host,
        port,
        make_tls_context(services) if tls else None,
        services.settings.read_timeout_seconds,
    )
    await site.start()
    bound = runner.addresses[0]
    return runner, Listening(host, int(bound[1]), tls)


def run_forever(
    services: Services, host: str, port: int, tls: bool, on_listening: Callable[[Listening], None]
) -> None:
    """Serve until SIGINT or SIGTERM, calling `on_listening` once the socket is bound."""

    async def main() -> None:
        runner, listening = await _start(services, host, port, tls)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        on_listening(listening)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(main())
    finally:
        dispose_engine(services.sessions.kw["bind"])


class ServerThread:
    """The server on its own event loop thread: for tests, benchmarks and the demo."""

    def __init__(
        self, services: Services, host: str = "127.0.0.1", port: int = 0, tls: bool = True
    ) -> None:
        self.services = services
        self._args = (host, port, tls)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="ccms-server", daemon=True)
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self._error: BaseException | None = None
        self.listening: Listening | None = None

    @property
    def url(self) -> str:
        assert self.listening is not None, "server not started"
        return self.listening.url

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._runner, self.listening = self._loop.run_until_complete(
                _start(self.services, *self._args)
            )
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        if self._runner is not None:
            self._loop.run_until_complete(self._runner.cleanup())
        self._loop.run_until_complete(self._loop.shutdown_default_executor())
        self._loop.close()

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
        with contextlib.suppress(Exception):
            dispose_engine(self.services.sessions.kw["bind"])

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
