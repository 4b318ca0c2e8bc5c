"""`requests`/`ssl`/socket failures to plain codes: DNS, refused, timeout, proxy, TLS kinds."""

from __future__ import annotations

import re
import socket
import ssl

import requests
from urllib3.exceptions import NameResolutionError, ReadTimeoutError

from ..domain.errors import EcmtError, ErrorCode
from ..domain.text import clean_text

# OpenSSL X509_V_ERR_* values
_CLOCK = {9, 10}  # certificate not yet valid, has expired
_HOSTNAME = {62, 64}  # host name, IP address mismatch
_UNTRUSTED = {2, 18, 19, 20, 21}
_PROXY_407 = re.compile(r"Tunnel connection failed: 407\b")
_CLIENT_CERT_ALERTS = (
    "CERTIFICATE_REQUIRED",
    "UNKNOWN_CA",
    "BAD_CERTIFICATE",
    "CERTIFICATE_UNKNOWN",
    "CERTIFICATE_EXPIRED",
    "CERTIFICATE_REVOKED",
)

_CLIENT_CERT_DROPS = (
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
    ssl.SSLEOFError,
)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or item in seen:
            continue
        seen.append(item)
        todo.extend([item.__cause__, item.__context__])
        todo.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
        reason = getattr(item, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    return seen


def translate_exception(
    exc: requests.RequestException, request_id: str, with_client_cert: bool
) -> EcmtError:
    causes = _chain(exc)
    # a proxy's reason phrase or a peer's alert text can be in there: clean it
    text = clean_text(" | ".join(f"{type(c).__name__}: {c}" for c in causes[:3]), 500)

    def error(code: ErrorCode) -> EcmtError:
        return EcmtError(code, text, reference=request_id)

    if isinstance(exc, requests.exceptions.ProxyError):
        # the proxy's status, not any "407" in a host name or port number
        auth = any(_PROXY_407.search(str(c)) for c in causes)
        return error(ErrorCode.PROXY_AUTH if auth else ErrorCode.PROXY_ERROR)
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            number = cause.verify_code
            if number in _CLOCK:
                return error(ErrorCode.TLS_CLOCK)
            if number in _HOSTNAME:
                return error(ErrorCode.TLS_HOSTNAME)
            if number in _UNTRUSTED:
                return error(ErrorCode.TLS_UNTRUSTED)
            return error(ErrorCode.TLS_ERROR)
    if with_client_cert and (
        any(alert in text.upper() for alert in _CLIENT_CERT_ALERTS)
        # TLS 1.3 reports the refusal after the handshake: an alert, a reset, or a bare EOF
        or any(isinstance(c, _CLIENT_CERT_DROPS) for c in causes)
        or "RemoteDisconnected" in text
    ):
        return error(ErrorCode.CERT_NOT_ACCEPTED)
    if isinstance(exc, requests.exceptions.SSLError):
        return error(ErrorCode.TLS_ERROR)
    # requests reports a read timeout in the body as a ConnectionError: still a timeout
    if isinstance(exc, requests.exceptions.Timeout) or any(
        isinstance(c, ReadTimeoutError) for c in causes
    ):
        return error(ErrorCode.NETWORK_TIMEOUT)
    if any(isinstance(c, NameResolutionError | socket.gaierror) for c in causes):
        return error(ErrorCode.NETWORK_DNS)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return error(ErrorCode.NETWORK_CONNECT)
    return error(ErrorCode.NETWORK_CONNECT)
