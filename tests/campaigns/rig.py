"""The rig the crash-point and fault campaigns drive `ecmt` through.

    ecmt ──TLS──> FrontDoor ──TCP──> ReverseProxy (HostileServer) ──HTTP──> reference server
                  (refuse a        (terminates TLS, asks for the       (plain HTTP listener
                   connection,      client certificate, forwards        that trusts 127.0.0.1
                   or be an HTTP    it in X-SSL-Client-Cert, and        as its TLS proxy, as
                   proxy that       injects one fault on the first      behind a real load
                   answers 407)     request for a chosen path)          balancer)

Each connection carries one request (the hostile server closes it after answering), so "the
k-th connection of a run" and "the k-th request" are the same; the front door uses that to
refuse or 407 exactly the request of one stage. Everything binds 127.0.0.1, every wait is
bounded, and `stop()` ends it all.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hostile_server import Behaviour, HostileServer, Request, _head
from support import Harness

HOST = "127.0.0.1"
IO_TIMEOUT = 10.0
PIPE_LIMIT = 60.0  # a tunnelled connection is cut after this long, whatever happens

# --- the faults ------------------------------------------------------------------------

PROBLEM = "application/problem+json"
CAPTIVE_PORTAL = (
    b"<!doctype html><html><head><title>Sign in to the practice Wi-Fi</title></head>"
    b"<body><h1>Please sign in</h1><form action='/login'><input name='user'></form>"
    b"</body></html>"
)


def _problem(status: int, code: str, title: str) -> bytes:
    return json.dumps(
        {"type": "about:blank", "title": title, "status": status, "code": code}
    ).encode()


@dataclass(frozen=True)
class Fault:
    """What to do to one request. `forward`: the reference server sees the request first
    (so it may issue) and the fault hits its answer; otherwise the server never sees it."""

    name: str
    label: str
    forward: bool
    level: str = "http"  # "http" (the reverse proxy), "refuse" or "proxy-407" (front door)

    def answer(self, upstream: Behaviour | None) -> Behaviour:
        name = self.name
        if name == "reset-before-answer":
            return Behaviour(reset_after=0)
        if name == "server-error-500":
            body = _problem(500, "CCMS-INTERNAL-ERROR", "The service met an unexpected error")
            return Behaviour(500, "Internal Server Error", [("Content-Type", PROBLEM)], body)
        if name == "unavailable-503":
            body = _problem(503, "CCMS-UNAVAILABLE", "The service is temporarily unavailable")
            headers = [("Content-Type", PROBLEM), ("Retry-After", "120")]
            return Behaviour(503, "Service Unavailable", headers, body)
        if name == "accepted-202":
            return Behaviour(202, "Accepted", [("Retry-After", "1")])
        if name == "rate-limited-429":
            body = _problem(429, "CCMS-RATE-LIMITED", "Too many requests")
            headers = [("Content-Type", PROBLEM), ("Retry-After", "1")]
            return Behaviour(429, "Too Many Requests", headers, body)
        if name == "wrong-content-type":
            return Behaviour(200, "OK", [("Content-Type", "text/html")], CAPTIVE_PORTAL)
        assert upstream is not None, name
        if name == "reset-mid-response":
            # the head and a quarter of the body, a pause (so the client is reading the body,
            # not racing the reset, which would discard what it had not read yet), a reset at
            # half the body; an answer without a body (204) is reset before its first byte,
            # as a client may take a status line and part of the headers for a whole answer
            if not upstream.body:
                return _replace(upstream, reset_after=0)
            cut = len(_head(upstream)) + len(upstream.body) // 2
            piece = max(1, len(upstream.body) // 4)
            return _replace(upstream, reset_after=cut, piece=piece, pause=0.3)
        if name == "stall":
            return _replace(upstream, stall=math.inf)
        if name == "truncated-body":
            return _replace(upstream, body=upstream.body[: len(upstream.body) // 2])
        if name == "too-large-body":  # 4 MiB of the answer's own first byte, then nothing
            piece = (upstream.body[:1] or b" ") * 65536
            return _replace(upstream, body=piece, repeat=64)
        raise KeyError(name)


def _replace(behaviour: Behaviour, **changes: object) -> Behaviour:
    from dataclasses import replace

    return replace(behaviour, **changes)  # type: ignore[arg-type]


FAULTS: list[Fault] = [
    Fault("refused", "connection refused", False, "refuse"),
    Fault("reset-before-answer", "reset after the request, before any answer", False),
    Fault("reset-mid-response", "reset in the middle of the answer", True),
    Fault("stall", "answer withheld (stall)", True),
    Fault("server-error-500", "500 problem+json", False),
    Fault("unavailable-503", "503 with Retry-After", False),
    Fault("accepted-202", "202 with Retry-After: 1", False),
    Fault("rate-limited-429", "429 with Retry-After: 1", False),
    Fault("proxy-407", "407 from the HTTP proxy (CONNECT)", False, "proxy-407"),
    Fault("truncated-body", "truncated body (Content-Length agrees)", True),
    Fault("too-large-body", "body of 4 MiB", True),
    Fault("wrong-content-type", "200 text/html (a captive portal)", False),
]
FAULT = {f.name: f for f in FAULTS}


# --- the reverse proxy -------------------------------------------------------------------

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class Seen:
    method: str
    path: str
    fault: str | None
    status: int | None


class ReverseProxy:
    """HTTPS in front of the reference server's plain-HTTP listener; `arm(path, fault)`
    makes the first request for `path` meet `fault` (once)."""

    def __init__(self, upstream: Harness) -> None:
        self.upstream = upstream
        paths = upstream.services.paths
        ca_pem = paths.issuing_cert.read_bytes() + paths.root_cert.read_bytes()
        self._armed: tuple[str, Fault] | None = None
        self._lock = threading.Lock()
        self.seen: list[Seen] = []
        self.server = HostileServer(self._answer, client_ca_pem=ca_pem)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def trust_anchor(self) -> str:
        return str(self.server.trust_anchor)

    def start(self) -> ReverseProxy:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def arm(self, path: str | None, fault: Fault | None) -> None:
        with self._lock:
            self._armed = (path, fault) if path and fault and fault.level == "http" else None

    @property
    def fired(self) -> bool:
        return any(s.fault for s in self.seen)

    def _take(self, path: str) -> Fault | None:
        with self._lock:
            if self._armed and path.endswith(self._armed[0]):
                fault = self._armed[1]
                self._armed = None
                return fault
        return None

    def _answer(self, request: Request) -> Behaviour:
        path = request.path.split("?", 1)[0]
        fault = self._take(path)
        upstream = self._forward(request) if fault is None or fault.forward else None
        answer = fault.answer(upstream) if fault else upstream
        assert answer is not None
        self.seen.append(Seen(request.method, path, fault.name if fault else None, answer.status))
        return answer

    def _forward(self, request: Request) -> Behaviour:
        headers = {k: v for k, v in request.headers if k.lower() not in _HOP_BY_HOP}
        headers["X-Forwarded-For"] = HOST
        if request.client_cert:
            cert = x509.load_der_x509_certificate(request.client_cert)
            headers["X-SSL-Client-Cert"] = quote(
                cert.public_bytes(serialization.Encoding.PEM).decode()
            )
        host, port = self.upstream.url.removeprefix("http://").rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=IO_TIMEOUT)
        try:
            connection.request(request.method, request.path, request.body or None, headers)
            response = connection.getresponse()
            body = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            return Behaviour(response.status, response.reason, kept, body)
        finally:
            connection.close()


# --- the front door: refuse a connection, or be an HTTP proxy ------------------------------


@dataclass
class FrontDoor:
    """TCP on 127.0.0.1 that pipes each connection to `target_port`. Per run (`reset`), it
    can refuse the k-th connection (its listener is closed after k accepts, so the k-th
    connect meets a closed port), or, in proxy mode, answer the k-th CONNECT with 407."""

    target_port: int
    proxy: bool = False
    refuse_at: int | None = None
    deny_at: int | None = None
    accepted: int = 0
    _listener: socket.socket | None = None
    _port: int = 0
    _stopping: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> FrontDoor:
        self._open()
        return self

    def reset(self, refuse_at: int | None = None, deny_at: int | None = None) -> None:
        """A new run: count connections from 0 again; reopen if a refusal closed the door."""
        with self._lock:
            self.accepted = 0
            self.refuse_at, self.deny_at = refuse_at, deny_at
            closed = self._listener is None
        if refuse_at == 0:
            self._close()
        elif closed:
            self._open()

    def stop(self) -> None:
        self._stopping.set()
        self._close()
        for thread in self._threads:
            thread.join(IO_TIMEOUT)

    def _open(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self._port))
        listener.listen(16)
        listener.settimeout(0.1)
        self._port = int(listener.getsockname()[1])
        with self._lock:
            self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _close(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed: a refusal, or stop()
            with self._lock:
                number = self.accepted
                self.accepted += 1
                refuse_next = self.refuse_at is not None and self.accepted >= self.refuse_at
            if refuse_next:
                self._close()  # the next connect is refused by the kernel
            thread = threading.Thread(target=self._serve, args=(conn, number), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, client: socket.socket, number: int) -> None:
        client.settimeout(IO_TIMEOUT)
        try:
            if self.proxy:
                head = _read_head(client)
                if not head.startswith(b"CONNECT "):
                    client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    return
                if number == self.deny_at:
                    client.sendall(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                        b'Proxy-Authenticate: Basic realm="practice proxy"\r\n'
                        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    return
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            with socket.create_connection((HOST, self.target_port), IO_TIMEOUT) as upstream:
                _pipe(client, upstream, self._stopping)
        except OSError:
            pass
        finally:
            client.close()


def _read_head(sock: socket.socket, limit: int = 16384) -> bytes:
    data = b""
    while not data.endswith(b"\r\n\r\n") and len(data) < limit:
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def _pipe(a: socket.socket, b: socket.socket, stopping: threading.Event) -> None:
    other = {a: b, b: a}
    deadline = time.monotonic() + PIPE_LIMIT
    with selectors.DefaultSelector() as selector:
        for sock in other:
            selector.register(sock, selectors.EVENT_READ)
        while time.monotonic() < deadline and not stopping.is_set():
            for key, _ in selector.select(timeout=0.1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(65536)
                except OSError:
                    _abort(other[sock])
                    return
                if not data:
                    with contextlib.suppress(OSError):
                        other[sock].shutdown(socket.SHUT_WR)
                    selector.unregister(sock)
                    if not selector.get_map():
                        return
                    continue
                other[sock].sendall(data)


def _abort(sock: socket.socket) -> None:
    """Pass a reset on as a reset."""
    import struct

    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


@dataclass
class Rig:
    """A reverse proxy and its front door, for one reference server."""

    upstream: Harness
    proxy: ReverseProxy = field(init=False)
    front: FrontDoor = field(init=False)
    http_proxy: FrontDoor = field(init=False)

    def __post_init__(self) -> None:
        self.proxy = ReverseProxy(self.upstream).start()
        self.front = FrontDoor(self.proxy.port).start()
        self.http_proxy = FrontDoor(self.proxy.port, proxy=True).start()

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.front.port}"

    @property
    def url_behind_proxy(self) -> str:
        return f"https://{HOST}:{self.proxy.port}"

    @property
    def proxy_url(self) -> str:
        return f"http://{HOST}:{self.http_proxy.port}"

    def arm(self, fault: Fault | None, path: str | None, index: int | None) -> None:
        """The next run meets `fault` at `path`, which is request number `index` of it."""
        self.proxy.seen.clear()
        self.proxy.arm(path, fault)
        level = fault.level if fault else None
        self.front.reset(refuse_at=index if level == "refuse" else None)
        self.http_proxy.reset(deny_at=index if level == "proxy-407" else None)

    def disarm(self) -> None:
        self.arm(None, None, None)

    def stop(self) -> None:
        self.front.stop()
        self.http_proxy.stop()
        self.proxy.stop()
