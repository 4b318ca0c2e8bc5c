"""Throwaway peers for the client's transport tests: a small PKI, an HTTPS server that records
what it is sent (or never answers), and an HTTP CONNECT proxy that forwards or refuses.

Everything binds 127.0.0.1 only, uses bounded timeouts and is stopped by `stop()` (the tests'
fixtures call it in teardown). Import as `from tls_fixtures import ...`.
"""

from __future__ import annotations

import selectors
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"
IO_TIMEOUT = 10.0  # every socket these helpers own gives up after this long
HANG_LIMIT = 30.0  # a "never answers" handler still returns after this long

# --- a small PKI -------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str = "Throwaway Test CA", issuer: Issued | None = None) -> Issued:
    """A CA certificate: self-signed, or an intermediate signed by `issuer`."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    signer = issuer.key if issuer else key
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.cert.subject if issuer else _name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(signer, hashes.SHA256())
    )
    return Issued(key, cert)


def issue_leaf(
    ca: Issued,
    *,
    names: Sequence[str] = ("localhost", "127.0.0.1"),
    subject: x509.Name | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    usages: Sequence[x509.ObjectIdentifier] | None = (ExtendedKeyUsageOID.SERVER_AUTH,),
    key: ec.EllipticCurvePrivateKey | None = None,
) -> Issued:
    """An end-entity certificate from `ca`; `usages=None` leaves out the EKU extension."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    sans: list[x509.GeneralName] = []
    for name in names:
        try:
            sans.append(x509.IPAddress(ip_address(name)))
        except ValueError:
            sans.append(x509.DNSName(name))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject or _name(names[0] if names else "leaf"))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(hours=1))
        .not_valid_after(not_after or now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if usages is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
    return Issued(key, builder.sign(ca.key, hashes.SHA256()))


def write_pem(path: Path, *certs: x509.Certificate) -> Path:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    return path


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was bound a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


# --- an HTTPS server that records requests -----------------------------------------------


@dataclass(frozen=True)
class Captured:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return found[0] if found else None


@dataclass
class Answer:
    """What the server answers every request with; `hang` means it never answers."""

    status: int = 200
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    hang: bool = False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IO_TIMEOUT
    server: _TlsHttpServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.captured.append(
            Captured(self.command, self.path, list(self.headers.items()), body)
        )
        answer = self.server.answer
        if answer.hang:
            self.server.release.wait(HANG_LIMIT)
            self.close_connection = True
            return
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer.body)
        self.close_connection = True

    do_GET = do_POST = _serve


class _TlsHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext, answer: Answer) -> None:
        self.context = context
        self.answer = answer
        self.captured: list[Captured] = []
        self.errors: list[BaseException] = []
        self.release = threading.Event()
        super().__init__((HOST, 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Runs on the connection's own thread: the handshake happens here, bounded."""
        request.settimeout(IO_TIMEOUT)
        with self.context.wrap_socket(request, server_side=True) as tls:
            self.RequestHandlerClass(tls, client_address, self)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if error is not None:
            self.errors.append(error)


class HttpsServer:
    """HTTPS on 127.0.0.1 with the certificate chain given; records every request."""

    def __init__(self, leaf: Issued, chain: Sequence[x509.Certificate] = (), **answer: Any):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [leaf.cert, *chain])
        # OpenSSL reads an identity from files only
        with tempfile.TemporaryDirectory(prefix="tls-fixture-") as folder:
            cert_file, key_file = Path(folder) / "cert.pem", Path(folder) / "key.pem"
            cert_file.write_bytes(pem)
            key_file.write_bytes(leaf.key_pem)
            context.load_cert_chain(cert_file, key_file)
        self._server = _TlsHttpServer(context, Answer(**answer))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, host: str = HOST) -> str:
        return f"https://{host}:{self.port}"

    @property
    def captured(self) -> list[Captured]:
        return self._server.captured

    @property
    def errors(self) -> list[BaseException]:
        return self._server.errors

    def start(self) -> HttpsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(IO_TIMEOUT)


# --- an HTTP CONNECT proxy ---------------------------------------------------------------


def _read_head(sock: socket.socket, limit: int = 16384) -> bytes:
    """The request line and headers, byte by byte so nothing after them is swallowed."""
    data = b""
    while not data.endswith(b"\r\n\r\n") and len(data) < limit:
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data


class _ProxyHandler(socketserver.BaseRequestHandler):
    server: _ProxyServer

    def handle(self) -> None:
        client: socket.socket = self.request
        client.settimeout(IO_TIMEOUT)
        head = _read_head(client).decode("latin-1")
        line = head.split("\r\n", 1)[0]
        self.server.seen.append(line)
        refusal = self.server.refusal
        if refusal is not None:
            status, reason, extra = refusal
            client.sendall(
                f"HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: 0\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            return
        parts = line.split()
        host, _, port = parts[1].rpartition(":") if len(parts) == 3 else ("", "", "")
        if parts[:1] != ["CONNECT"] or host not in {HOST, "localhost"} or not port.isdigit():
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        with socket.create_connection((HOST, int(port)), timeout=IO_TIMEOUT) as upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._pipe(client, upstream)

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        other = {client: upstream, upstream: client}
        deadline = time.monotonic() + HANG_LIMIT
        with selectors.DefaultSelector() as selector:
            for sock in other:
                selector.register(sock, selectors.EVENT_READ)
            while time.monotonic() < deadline and not self.server.stopping.is_set():
                for key, _ in selector.select(timeout=0.1):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    other[sock].sendall(data)


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, refusal: tuple[int, str, str] | None) -> None:
        self.refusal = refusal
        self.seen: list[str] = []
        self.errors: list[BaseException] = []
        self.stopping = threading.Event()
        super().__init__((HOST, 0), _ProxyHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if error is not None:
            self.errors.append(error)


@dataclass
class ConnectProxy:
    """A CONNECT proxy on 127.0.0.1: forwards to 127.0.0.1 ports, or refuses every CONNECT
    with `refuse=(status, reason, extra header lines)`."""

    refuse: tuple[int, str, str] | None = None
    _server: _ProxyServer = field(init=False)
    _thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self._server = _ProxyServer(self.refuse)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    @property
    def seen(self) -> list[str]:
        return self._server.seen

    @property
    def errors(self) -> list[BaseException]:
        return self._server.errors

    def start(self) -> ConnectProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(IO_TIMEOUT)


PROXY_AUTH_REQUIRED = (
    407,
    "Proxy Authentication Required",
    'Proxy-Authenticate: Basic realm="x"\r\n',
)
BAD_GATEWAY = (502, "Bad Gateway", "")
