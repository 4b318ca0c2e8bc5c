"""Who is on the other end: client address and certificate, from TLS or a trusted proxy."""

from __future__ import annotations

import base64
import logging
import re
import ssl
from urllib.parse import unquote

from aiohttp import web
from cryptography import x509

from ..settings import ServerSettings

log = logging.getLogger(__name__)
_PEM_BODY = re.compile(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)


def from_trusted_proxy(request: web.Request, settings: ServerSettings) -> bool:
    return settings.is_trusted_proxy(request.remote)


def client_address(request: web.Request, settings: ServerSettings) -> str:
    """The connecting address, or behind trusted proxies the last untrusted forwarded hop."""
    remote = request.remote or "unknown"
    if not from_trusted_proxy(request, settings):
        return remote
    hops = [h.strip() for h in request.headers.get(settings.forwarded_for_header, "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not settings.is_trusted_proxy(hop):
            return hop
    return remote


def is_tls(request: web.Request) -> bool:
    return (
        request.transport is not None and request.transport.get_extra_info("ssl_object") is not None
    )


def peer_certificate(request: web.Request, settings: ServerSettings) -> bytes | None:
    """DER of the client's certificate, or None when it presented none."""
    header = request.headers.get(settings.client_cert_header)
    if from_trusted_proxy(request, settings):
        return _decode_forwarded(header) if header else None
    if header:
        log.warning(
            "ignored %s from untrusted address %s", settings.client_cert_header, request.remote
        )
    if request.transport is None:
        return None
    ssl_object = request.transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject):
        return None
    return ssl_object.getpeercert(binary_form=True)


def _decode_forwarded(header: str) -> bytes | None:
    """nginx `$ssl_client_escaped_cert` (URL-encoded PEM), raw PEM, or base64 DER."""
    text = unquote(header).replace("\t", "\n")
    match = _PEM_BODY.search(text)
    payload = match.group(1) if match else text
    try:
        der = base64.b64decode("".join(payload.split()), validate=True)
        x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion):  # binascii.Error is a ValueError
        log.warning("unreadable forwarded client certificate")
        return None
    return der
