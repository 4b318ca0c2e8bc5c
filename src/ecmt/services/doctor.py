"""`ecmt doctor` and "Check my connection": the path to the service, tested step by step,
each finding explained in words a practice manager can pass to IT.

The steps: settings, proxy, name lookup (DNS), connection (TCP), the proxy's tunnel, the
secure connection (TLS: does the chain end in the configured trust anchor, or in another
CA that inspects HTTPS?), the clock (the service's Date header), the service itself (the
signed release manifest and this version's status), and the installed certificate (days
left, issued by the service's CA). A step that fails stops the steps that depend on it.

Every finding (findings.py) has a level (ok, warning, problem), words, and for warnings
and problems a stable code documented in docs/helpdesk.md.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from cryptography import x509

from ..config import EcmtSettings
from ..domain.errors import EcmtError, ErrorCode
from ..domain.text import clean_text
from .findings import (
    Certificates,
    Finding,
    Level,
    ReleaseWords,
    certificate_findings,
    name_of,
    release_words,
)
from .status import CertificateStatus

if TYPE_CHECKING:
    from ..app import App

MAX_SKEW = timedelta(minutes=5)
_HEAD_LIMIT = 64 * 1024
_CLOCK = {9, 10}
_HOSTNAME = {62, 64}
_UNTRUSTED = {2, 18, 19, 20, 21}


@dataclass(frozen=True)
class Hop:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class _Stop(Exception):
    pass


class Doctor:
    def __init__(
        self,
        settings: EcmtSettings,
        *,
        certificates: Certificates,
        store_name: str,
        release: ReleaseWords,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._certificates = certificates
        self._store_name = store_name
        self._release = release
        self._clock = clock
        self.findings: list[Finding] = []
        self._cas: list[x509.Certificate] | None = None

    def run(self) -> list[Finding]:
        self.findings = []
        with contextlib.suppress(_Stop):
            self._path_to_service()
        self.findings += certificate_findings(self._certificates, self._store_name, self._cas)
        return self.findings

    def _add(self, finding: Finding) -> None:
        self.findings.append(finding)
        if finding.level is Level.PROBLEM and finding.check not in {"service", "clock"}:
            raise _Stop

    # --- settings and proxy ----------------------------------------------------------------

    def _path_to_service(self) -> None:
        url = self._settings.server_url
        if not url:
            self._add(
                Finding(
                    "settings",
                    Level.PROBLEM,
                    "No service address is set up on this computer (the `server_url` "
                    "setting), so there is nothing to check.",
                    ErrorCode.SERVER_NOT_CONFIGURED,
                )
            )
            return
        parts = urlsplit(url)
        service = Hop(parts.hostname or "", parts.port or 443)
        proxy = self._proxy(url)
        hop = proxy[0] if proxy else service
        self._dns(hop, service, via_proxy=proxy is not None)
        with self._connected(hop) as sock:
            if proxy:
                self._tunnel(sock, proxy[0], proxy[1], service)
            self._tls(sock, service, proxy)
        self._http()

    def _proxy(self, url: str) -> tuple[Hop, str | None] | None:
        """The proxy in use (the `proxy` setting, else the environment's or system's) and
        its Proxy-Authorization, if the proxy URL carries a user name and password."""
        if self._settings.proxy:
            chosen, source = self._settings.proxy, "the `proxy` setting"
        else:
            from requests.utils import get_environ_proxies

            found = get_environ_proxies(url)
            chosen = found.get("https") or found.get("all") or ""
            source = "this computer's proxy settings (HTTPS_PROXY, or the system's)"
        if not chosen:
            self._add(
                Finding(
                    "proxy", Level.OK, "No proxy: this computer connects to the service directly."
                )
            )
            return None
        if "://" not in chosen:
            chosen = "http://" + chosen
        parts = urlsplit(chosen)
        hop = Hop(parts.hostname or "", parts.port or 8080)
        auth = None
        if parts.username:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            auth = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        self._add(
            Finding("proxy", Level.OK, f"Connections go through the proxy {hop} (from {source}).")
        )
        return hop, auth

    # --- DNS and TCP -----------------------------------------------------------------------

    def _dns(self, hop: Hop, service: Hop, via_proxy: bool) -> None:
        try:
            ipaddress.ip_address(hop.host)
        except ValueError:
            pass
        else:
            self._add(Finding("dns", Level.OK, f"{hop.host} is an address: no name to look up."))
            return
        try:
            found = socket.getaddrinfo(hop.host, hop.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            what = "The proxy's name" if via_proxy else "The service's name"
            self._add(
                Finding(
                    "dns",
                    Level.PROBLEM,
                    f"{what}, {hop.host}, cannot be found. This computer may be offline, or "
                    "the name in the settings may be wrong.",
                    ErrorCode.NETWORK_DNS,
                    clean_text(str(exc), 200),
                )
            )
            return
        addresses = ", ".join(sorted({str(info[4][0]) for info in found})[:3])
        note = f" The proxy looks up {service.host} itself." if via_proxy else ""
        self._add(
            Finding(
                "dns",
                Level.OK,
                f"The name {hop.host} was found ({addresses}).{note}",
            )
        )

    @contextlib.contextmanager
    def _connected(self, hop: Hop) -> Iterator[socket.socket]:
        timeout = self._settings.connect_timeout
        try:
            sock = socket.create_connection((hop.host, hop.port), timeout=timeout)
        except ConnectionRefusedError as exc:
            self._add(
                Finding(
                    "tcp",
                    Level.PROBLEM,
                    f"{hop} refused the connection: nothing answers on port {hop.port} there, "
                    "or a firewall turns the connection away.",
                    ErrorCode.NETWORK_CONNECT,
                    clean_text(str(exc), 200),
                )
            )
            raise _Stop from None
        except TimeoutError:
            self._add(
                Finding(
                    "tcp",
                    Level.PROBLEM,
                    f"No connection to {hop} within {timeout:g} seconds. A firewall may be "
                    "dropping it silently.",
                    ErrorCode.NETWORK_TIMEOUT,
                )
            )
            raise _Stop from None
        except OSError as exc:
            self._add(
                Finding(
                    "tcp",
                    Level.PROBLEM,
                    f"No connection to {hop} could be made.",
                    ErrorCode.NETWORK_CONNECT,
                    clean_text(str(exc), 200),
                )
            )
            raise _Stop from None
        self._add(Finding("tcp", Level.OK, f"A connection to {hop} was made."))
        try:
            sock.settimeout(self._settings.read_timeout)
            yield sock
        finally:
            sock.close()

    def _tunnel(self, sock: socket.socket, proxy: Hop, auth: str | None, service: Hop) -> None:
        head = f"CONNECT {service} HTTP/1.1\r\nHost: {service}\r\n"
        if auth:
            head += f"Proxy-Authorization: {auth}\r\n"
        try:
            sock.sendall((head + "\r\n").encode("ascii"))
            status, reason = _read_status(sock)
        except (OSError, ValueError) as exc:
            self._add(
                Finding(
                    "proxy",
                    Level.PROBLEM,
                    f"The proxy {proxy} did not answer the request to connect to the service.",
                    ErrorCode.PROXY_ERROR,
                    clean_text(str(exc), 200),
                )
            )
            return
        if status == 407:
            self._add(
                Finding(
                    "proxy",
                    Level.PROBLEM,
                    f"The proxy {proxy} asks for a sign-in (HTTP 407). This program cannot sign "
                    f"in to a proxy by itself. Ask IT to let {service.host} through the proxy "
                    "without a sign-in, or to put the proxy's address with its sign-in in the "
                    "`proxy` setting.",
                    ErrorCode.PROXY_AUTH,
                    f"HTTP {status} {reason}",
                )
            )
        elif status != 200:
            self._add(
                Finding(
                    "proxy",
                    Level.PROBLEM,
                    f"The proxy {proxy} answered HTTP {status} instead of connecting to "
                    f"{service}. Ask IT to allow this address through the proxy.",
                    ErrorCode.PROXY_ERROR,
                    f"HTTP {status} {reason}",
                )
            )
        else:
            self._add(Finding("proxy", Level.OK, f"The proxy opened a connection to {service}."))

    # --- TLS ---------------------------------------------------------------------------------

    def _tls(self, sock: socket.socket, service: Hop, proxy: tuple[Hop, str | None] | None) -> None:
        from ..ccms.tls import make_context

        anchors = self._settings.trust_anchors
        context = make_context(anchors, None)
        trusted = "the configured trust anchor" if anchors else "an authority this computer trusts"
        try:
            with context.wrap_socket(sock, server_hostname=service.host) as tls:
                version = tls.version()
        except ssl.SSLCertVerificationError as exc:
            self._add(self._tls_refused(exc, service, proxy, trusted))
            return
        except (ssl.SSLError, OSError) as exc:
            self._add(
                Finding(
                    "tls",
                    Level.PROBLEM,
                    f"No secure connection could be made with {service.host}: something that "
                    "does not speak TLS 1.2 or newer answered, or the connection broke.",
                    ErrorCode.TLS_ERROR,
                    clean_text(str(exc), 200),
                )
            )
            return
        self._add(
            Finding(
                "tls",
                Level.OK,
                f"The service proved its identity: its certificate for {service.host} leads "
                f"to {trusted} ({version}).",
            )
        )

    def _tls_refused(
        self,
        exc: ssl.SSLCertVerificationError,
        service: Hop,
        proxy: tuple[Hop, str | None] | None,
        trusted: str,
    ) -> Finding:
        detail = clean_text(str(exc.verify_message or exc), 200)
        if exc.verify_code in _CLOCK:
            return Finding(
                "tls",
                Level.PROBLEM,
                f"By this computer's clock ({self._clock():%d %B %Y %H:%M} UTC) the service's "
                "certificate is expired or not yet valid. Check the date, time and time zone.",
                ErrorCode.TLS_CLOCK,
                detail,
            )
        if exc.verify_code in _HOSTNAME:
            return Finding(
                "tls",
                Level.PROBLEM,
                f"The certificate that answered is not for {service.host}: the address in "
                "the settings may be wrong, or something else answered in the service's place.",
                ErrorCode.TLS_HOSTNAME,
                detail,
            )
        if exc.verify_code in _UNTRUSTED:
            issuer = self._presented_issuer(service, proxy)
            if issuer:
                return Finding(
                    "tls",
                    Level.PROBLEM,
                    f"The secure connection to {service.host} was answered with a certificate "
                    f'issued by "{issuer}", not by the service\'s authority ({trusted}). Your '
                    "network is inspecting HTTPS (a firewall, web filter or antivirus that "
                    f"opens secure connections). Ask IT to exempt {service.host} from HTTPS "
                    "inspection.",
                    ErrorCode.TLS_INTERCEPTED,
                    detail,
                )
            return Finding(
                "tls",
                Level.PROBLEM,
                f"The service's certificate does not lead to {trusted}.",
                ErrorCode.TLS_UNTRUSTED,
                detail,
            )
        return Finding(
            "tls",
            Level.PROBLEM,
            f"The service's certificate for {service.host} was not accepted.",
            ErrorCode.TLS_ERROR,
            detail,
        )

    def _presented_issuer(self, service: Hop, proxy: tuple[Hop, str | None] | None) -> str:
        """Who issued the certificate that answered: a second handshake that verifies
        nothing and sends nothing, only to read the name."""
        hop = proxy[0] if proxy else service
        look = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        look.check_hostname = False
        look.verify_mode = ssl.CERT_NONE
        try:
            with socket.create_connection(
                (hop.host, hop.port), timeout=self._settings.connect_timeout
            ) as sock:
                sock.settimeout(self._settings.read_timeout)
                if proxy:
                    sock.sendall(f"CONNECT {service} HTTP/1.1\r\nHost: {service}\r\n\r\n".encode())
                    if _read_status(sock)[0] != 200:
                        return ""
                with look.wrap_socket(sock, server_hostname=service.host) as tls:
                    der = tls.getpeercert(binary_form=True)
        except (OSError, ssl.SSLError, ValueError):
            return ""
        if not der:
            return ""
        return name_of(x509.load_der_x509_certificate(der).issuer)

    # --- HTTP: clock and service ---------------------------------------------------------------

    def _http(self) -> None:
        from ccms_protocol.wire import API_PREFIX

        from ..ccms.est import EstClient
        from ..ccms.transport import Transport

        try:
            with Transport(self._settings) as transport:
                reply = transport.request("GET", API_PREFIX + "client-release", ok=(200, 404))
                self._clock_check(reply.headers.get("Date"))
                if reply.status == 404:
                    self._add(
                        Finding(
                            "service",
                            Level.WARNING,
                            "The service answered, but publishes no release information.",
                            ErrorCode.RELEASE_UNAVAILABLE,
                        )
                    )
                else:
                    self._add(self._release(reply.body))
                with contextlib.suppress(EcmtError):
                    self._cas = EstClient(transport).cacerts()
        except EcmtError as error:
            self._add(
                Finding(
                    "service",
                    Level.PROBLEM,
                    f"The secure connection works, but the service's answer was not usable: "
                    f"{error.title.lower()}.",
                    error.code,
                    error.detail,
                )
            )

    def _clock_check(self, date_header: str | None) -> None:
        try:
            theirs = parsedate_to_datetime(date_header) if date_header else None
        except (TypeError, ValueError):
            theirs = None
        if theirs is None or theirs.tzinfo is None:
            self._add(
                Finding(
                    "clock",
                    Level.OK,
                    "The service did not say its time, so this computer's clock was not compared.",
                )
            )
            return
        ours = self._clock()
        apart = abs(ours - theirs)
        if apart > MAX_SKEW:
            way = "ahead of" if ours > theirs else "behind"
            self._add(
                Finding(
                    "clock",
                    Level.WARNING,
                    f"This computer's clock is {_span(apart)} {way} the service's "
                    f"(this computer: {ours:%d %B %Y %H:%M} UTC, the service: "
                    f"{theirs.astimezone(UTC):%d %B %Y %H:%M} UTC). Certificates are checked "
                    "against the clock: set the correct date, time and time zone.",
                    ErrorCode.CLOCK_SKEW,
                )
            )
        else:
            self._add(
                Finding(
                    "clock",
                    Level.OK,
                    "This computer's clock agrees with the service's (within 5 minutes).",
                )
            )

    # --- the certificate ------------------------------------------------------------------------


def _read_status(sock: socket.socket) -> tuple[int, str]:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
        if len(head) > _HEAD_LIMIT:
            raise ValueError("the proxy's answer has no end")
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ValueError(f"not an HTTP answer: {clean_text(line, 80)!r}")
    return int(parts[1]), clean_text(parts[2] if len(parts) > 2 else "", 80)


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"


def check_connection(app: App) -> list[Finding]:
    """Every check, for this app's settings and store: the CLI and the desktop's button."""

    def certificates() -> list[tuple[CertificateStatus, x509.Certificate]]:
        pairs = []
        for status in app.status.certificates():
            stored = app.store.find(status.fingerprint)
            if stored is not None:
                pairs.append((status, stored.certificate))
        return pairs

    doctor = Doctor(
        app.settings,
        certificates=certificates,
        store_name=app.store_name,
        release=release_words(app.release),
    )
    return doctor.run()
