"""EST client (RFC 7030 with RFC 8951's clarifications): no assumption beyond the RFC, so it
also works against other EST servers."""

from __future__ import annotations

import base64
import binascii
import warnings

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import pkcs7

from ccms_protocol.wire import EST_PREFIX, MEDIA_PKCS10

from ..domain.models import PinCredentials
from .answers import Issued, Pending
from .problems import retry_after_seconds
from .transport import Reply, Transport, require

DEFAULT_RETRY_AFTER = 30


def decode_certs(reply: Reply) -> list[x509.Certificate]:
    """A certs-only PKCS#7, base64 (wrapped or not) or, leniently, raw DER."""
    body = reply.body
    if not body.lstrip().startswith(b"0"):  # b"0" is 0x30: DER SEQUENCE, not base64
        try:
            body = base64.b64decode(b"".join(body.split()) + b"==", validate=False)
        except (binascii.Error, ValueError):
            body = b""
    # the library warns about BER and odd fields, which are read as before: not the user's news
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            certs = pkcs7.load_der_pkcs7_certificates(body)
        except _UNREADABLE:  # e.g. signed data that is not certs-only, an unknown version
            certs = []
        require(bool(certs), "the answer holds no certificate", reply)
        require(all(map(_readable, certs)), "a certificate in the answer cannot be read", reply)
    return certs


_UNREADABLE = (
    ValueError,
    UnsupportedAlgorithm,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)


def _readable(cert: x509.Certificate) -> bool:
    """The parts the client reads later (names, key, extensions) parse: the library reads
    them only when asked, and a damaged one must not fail after the answer was accepted."""
    try:
        _ = cert.subject, cert.issuer, cert.extensions
        cert.public_key()
    except _UNREADABLE:
        return False
    return True


class EstClient:
    def __init__(self, transport: Transport, *, owns_transport: bool = True) -> None:
        """`owns_transport` False: the transport outlives this client (the app keeps one
        connection for a whole renewal), and closing the client leaves it open."""
        self.transport = transport
        self._owns_transport = owns_transport

    def close(self) -> None:
        if self._owns_transport:
            self.transport.close()

    def __enter__(self) -> EstClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cacerts(self) -> list[x509.Certificate]:
        return decode_certs(self.transport.request("GET", EST_PREFIX + "cacerts"))

    def csrattrs(self) -> bytes | None:
        """The DER `CsrAttrs`, or None when the server states no wish (204 or 404)."""
        reply = self.transport.request("GET", EST_PREFIX + "csrattrs", ok=(200, 204, 404))
        if reply.status != 200 or not reply.body.strip():
            return None
        try:
            return base64.b64decode(b"".join(reply.body.split()))
        except (binascii.Error, ValueError):
            return None

    def simpleenroll(self, csr_der: bytes, credentials: PinCredentials) -> Issued | Pending:
        return self._enroll("simpleenroll", csr_der, credentials)

    def simplereenroll(self, csr_der: bytes) -> Issued | Pending:
        """Needs a transport built with the current certificate as its identity."""
        return self._enroll("simplereenroll", csr_der, None)

    def _enroll(
        self, operation: str, csr_der: bytes, credentials: PinCredentials | None
    ) -> Issued | Pending:
        reply = self.transport.request(
            "POST",
            EST_PREFIX + operation,
            body=base64.encodebytes(csr_der),
            content_type=MEDIA_PKCS10,
            credentials=credentials,
            ok=(200, 202),
        )
        if reply.status == 202:
            wait = retry_after_seconds(reply.headers.get("Retry-After"), DEFAULT_RETRY_AFTER)
            return Pending(retry_after=wait or DEFAULT_RETRY_AFTER, reference=reply.request_id)
        return Issued(decode_certs(reply), reply.request_id)
