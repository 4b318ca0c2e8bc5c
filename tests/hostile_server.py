"""A scriptable HTTPS server on 127.0.0.1 that does what a well-behaved server never does:
answers far too much, drips its headers or body a byte at a time, lies about its length,
resets or closes the connection mid-answer, stalls, or says hostile things.

    from hostile_server import Behaviour, HostileServer

    with HostileServer(Behaviour(body=b"x" * 65536, repeat=1024, length=None)) as peer:
        settings = ...(server_url=peer.url, trust_anchors=[peer.trust_anchor])
        ...                                   # the client under test talks to peer.url
        served = peer.wait_served()           # what happened to the first request
        assert served.sent < 16 * 2**20       # the client hung up early

The script says what to do for each request:

- a `Behaviour`: the same for every request;
- a sequence of them: one per request in order, the last one repeating;
- a callable `(Request) -> Behaviour`: decided from the request (method, path, headers,
  body, and the client certificate if one was asked for and sent).

`Behaviour` (every field optional):

- `status`, `reason`, `headers` (pairs, sent as given, so they may be malformed), `body`;
- `repeat`: the body is sent this many times (gigabytes without holding them in memory;
  make `body` a multiple of `piece` for speed);
- `length`: `"auto"` sends the true Content-Length, `None` none (the close ends the
  answer), a number sends that number (a lie, if you like);
- `chunked`: Transfer-Encoding: chunked, one chunk per piece (`length` is then ignored);
- `piece`: bytes per write; `pause`: seconds between writes (a body drip);
- `head_pause`: seconds between the bytes of the status line and headers (a header drip);
- `stall`: seconds to wait after reading the request before answering anything
  (`math.inf`: until `stop()`);
- `close_after` / `reset_after`: after this many bytes of the answer (head included),
  close the connection cleanly, or abort it with a TCP reset.

Each connection serves one request and is closed ("Connection: close" is added unless the
behaviour sets a Connection header). What happened is recorded in `served`, one `Served`
per request: `sent` bytes written, `complete` when everything was written, `error` naming
why writing stopped (the client closing early shows as a broken pipe or a reset), and a
`done` event. Every socket has a bounded timeout, waits end at `stop()`, and the server
binds 127.0.0.1 only. TLS uses a throwaway CA made per server; `trust_anchor` is its PEM.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import socket
import ssl
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"
IO_TIMEOUT = 10.0  # each socket operation of the server gives up after this long
HEAD_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Behaviour:
    status: int = 200
    reason: str = "OK"
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    repeat: int = 1
    length: int | Literal["auto"] | None = "auto"
    chunked: bool = False
    piece: int = 64 * 1024
    pause: float = 0.0
    head_pause: float = 0.0
    stall: float = 0.0
    close_after: int | None = None
    reset_after: int | None = None

    @property
    def total(self) -> int:
        return len(self.body) * self.repeat


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    client_cert: bytes | None  # DER, when the server asked for one and got it

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return found[0] if found else None


@dataclass
class Served:
    request: Request
    behaviour: Behaviour
    sent: int = 0
    complete: bool = False
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


Script = Behaviour | Sequence[Behaviour] | Callable[[Request], Behaviour]


class HostileServer:
    def __init__(self, script: Script, *, client_ca_pem: bytes | None = None) -> None:
        """`client_ca_pem`: ask for a client certificate issued by this CA (optional for the
        client, recorded in `Request.client_cert`)."""
        self._script = script
        self._folder = Path(tempfile.mkdtemp(prefix="hostile-server-"))
        self.trust_anchor = self._folder / "ca.pem"
        self._context = _server_context(self._folder, client_ca_pem)
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.1)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.served: list[Served] = []
        self.errors: list[BaseException] = []  # faults of the server itself, for asserts
        self._accepter = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}"

    def start(self) -> HostileServer:
        self._accepter.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._accepter.join(IO_TIMEOUT)
        for thread in list(self._threads):
            thread.join(IO_TIMEOUT)
        self._listener.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_served(self, index: int = 0, timeout: float = IO_TIMEOUT) -> Served:
        """The `index`th request, once the server has finished with it."""
        waited = 0.0
        while len(self.served) <= index and waited < timeout:
            self._stopping.wait(0.02)
            waited += 0.02
        served = self.served[index]
        served.done.wait(timeout)
        return served

    # --- the server's side ----------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._connection, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _behaviour(self, request: Request, number: int) -> Behaviour:
        script = self._script
        if isinstance(script, Behaviour):
            return script
        if callable(script):
            return script(request)
        return script[min(number, len(script) - 1)]

    def _connection(self, conn: socket.socket) -> None:
        conn.settimeout(IO_TIMEOUT)
        try:
            with self._context.wrap_socket(conn, server_side=True) as tls:
                request = _read_request(tls)
                if request is None:
                    return
                with self._lock:
                    behaviour = self._behaviour(request, len(self.served))
                    served = Served(request, behaviour)
                    self.served.append(served)
                try:
                    self._answer(tls, served)
                finally:
                    served.done.set()
        except (OSError, ssl.SSLError) as exc:
            self.errors.append(exc)
        finally:
            conn.close()

    def _answer(self, tls: ssl.SSLSocket, served: Served) -> None:
        behaviour = served.behaviour
        if behaviour.stall and self._stopping.wait(
            None if math.isinf(behaviour.stall) else behaviour.stall
        ):
            served.error = "stopped while stalling"
            return
        head = _head(behaviour)
        try:
            for data, pause in _writes(head, behaviour):
                if pause and self._stopping.wait(pause):
                    served.error = "stopped while dripping"
                    return
                limit = _cut_at(behaviour)
                if limit is not None and served.sent + len(data) >= limit:
                    tls.sendall(data[: limit - served.sent])
                    served.sent = limit
                    _cut(tls, reset=behaviour.reset_after is not None)
                    served.error = "cut by the script"
                    return
                tls.sendall(data)
                served.sent += len(data)
            served.complete = True
        except (OSError, ssl.SSLError) as exc:
            served.error = f"{type(exc).__name__}: {exc}"


def _read_request(tls: ssl.SSLSocket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(4096)
        if not chunk or len(data) > HEAD_LIMIT:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    line, *lines = head.decode("latin-1").split("\r\n")
    method, path, _ = [*line.split(" ", 2), "", ""][:3]
    headers = [(k.strip(), v.strip()) for k, _, v in (x.partition(":") for x in lines)]
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
    while len(rest) < length:
        chunk = tls.recv(min(65536, length - len(rest)))
        if not chunk:
            break
        rest += chunk
    peer = tls.getpeercert(binary_form=True)
    return Request(method, path, headers, rest, peer)


def _head(behaviour: Behaviour) -> bytes:
    lines = [f"HTTP/1.1 {behaviour.status} {behaviour.reason}"]
    lines += [f"{name}: {value}" for name, value in behaviour.headers]
    names = {name.lower() for name, _ in behaviour.headers}
    if behaviour.chunked:
        lines.append("Transfer-Encoding: chunked")
    elif behaviour.length is not None:
        length = behaviour.total if behaviour.length == "auto" else behaviour.length
        lines.append(f"Content-Length: {length}")
    if "connection" not in names:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", errors="surrogateescape")


def _writes(head: bytes, behaviour: Behaviour) -> Iterator[tuple[bytes, float]]:
    """(bytes, pause before them): the head, at once or byte by byte, then the body."""
    if behaviour.head_pause:
        for index in range(len(head)):
            yield head[index : index + 1], behaviour.head_pause if index else 0.0
    else:
        yield head, 0.0
    for index, piece in enumerate(_pieces(behaviour.body, behaviour.repeat, behaviour.piece)):
        framed = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if behaviour.chunked else piece
        yield framed, behaviour.pause if index else 0.0
    if behaviour.chunked:
        yield b"0\r\n\r\n", 0.0


def _pieces(body: bytes, repeat: int, size: int) -> Iterator[bytes]:
    buffer = b""
    for _ in range(repeat):
        buffer += body
        while len(buffer) >= size:
            yield buffer[:size]
            buffer = buffer[size:]
    if buffer:
        yield buffer


def _cut_at(behaviour: Behaviour) -> int | None:
    limits = [n for n in (behaviour.close_after, behaviour.reset_after) if n is not None]
    return min(limits) if limits else None


def _cut(tls: ssl.SSLSocket, reset: bool) -> None:
    if reset:  # SO_LINGER with a zero timeout: close() sends RST, not FIN
        tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        tls.close()


# --- a throwaway CA and server certificate -------------------------------------------------


def _server_context(folder: Path, client_ca_pem: bytes | None) -> ssl.SSLContext:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hostile Server Test CA")])
    ca = _certificate(ca_name, ca_name, ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    leaf = _certificate(name, ca_name, key, ca_key, ca=False)
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "chain.pem").write_bytes(
        b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, ca))
    )
    key_file = folder / "key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(folder / "chain.pem", key_file)
    if client_ca_pem is not None:
        context.load_verify_locations(cadata=client_ca_pem.decode("ascii"))
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def _certificate(
    subject: x509.Name, issuer: x509.Name, key: Any, signer: Any, *, ca: bool
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ip_address(HOST))]
            ),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(signer, hashes.SHA256())
