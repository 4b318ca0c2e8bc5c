"""The CCMS wire contract: paths, media types, problem codes and JSON bodies.

Both the reference server and the desktop client import this module, so it must stay
free of server internals (no database, no aiohttp, no CA code).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import NameOID
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_serializer

from .reference import short_reference as short_reference

EST_PREFIX = "/.well-known/est/"
API_PREFIX = "/ccms/v1/"

MEDIA_PKCS10 = "application/pkcs10"
MEDIA_PKCS7_CERTS = "application/pkcs7-mime; smime-type=certs-only"
MEDIA_PKCS7 = "application/pkcs7-mime"
MEDIA_CSRATTRS = "application/csrattrs"
MEDIA_JSON = "application/json"
MEDIA_PROBLEM = "application/problem+json"

REQUEST_ID_HEADER = "X-Request-ID"


class ProblemCode(StrEnum):
    """Stable error codes; clients branch on these, never on text."""

    AUTH_INVALID = "CCMS-AUTH-INVALID"
    AUTH_REQUIRED = "CCMS-AUTH-REQUIRED"
    PIN_SUPERSEDED = "CCMS-PIN-SUPERSEDED"
    PIN_EXPIRED = "CCMS-PIN-EXPIRED"
    PIN_USED = "CCMS-PIN-USED"
    TOKEN_INVALID = "CCMS-TOKEN-INVALID"  # noqa: S105 - a code, not a secret
    TOKEN_EXPIRED = "CCMS-TOKEN-EXPIRED"  # noqa: S105
    ACCOUNT_LOCKED = "CCMS-ACCOUNT-LOCKED"
    TERMS_REQUIRED = "CCMS-TERMS-REQUIRED"
    CERT_NOT_ACCEPTED = "CCMS-CERT-NOT-ACCEPTED"
    TLS_REQUIRED = "CCMS-TLS-REQUIRED"
    CSR_INVALID = "CCMS-CSR-INVALID"
    REQUEST_INVALID = "CCMS-REQUEST-INVALID"
    NOT_FOUND = "CCMS-NOT-FOUND"
    METHOD_NOT_ALLOWED = "CCMS-METHOD-NOT-ALLOWED"
    TERMS_STALE = "CCMS-TERMS-STALE"
    REQUEST_TOO_LARGE = "CCMS-REQUEST-TOO-LARGE"
    MEDIA_TYPE_UNSUPPORTED = "CCMS-MEDIA-TYPE-UNSUPPORTED"
    RATE_LIMITED = "CCMS-RATE-LIMITED"
    INTERNAL_ERROR = "CCMS-INTERNAL-ERROR"
    UNAVAILABLE = "CCMS-UNAVAILABLE"

    @property
    def status(self) -> int:
        return _STATUS[self]

    @property
    def default_title(self) -> str:
        return _TITLES[self]


_STATUS: dict[ProblemCode, int] = {
    ProblemCode.AUTH_INVALID: 401,
    ProblemCode.AUTH_REQUIRED: 401,
    ProblemCode.PIN_SUPERSEDED: 401,
    ProblemCode.PIN_EXPIRED: 401,
    ProblemCode.PIN_USED: 401,
    ProblemCode.TOKEN_INVALID: 401,
    ProblemCode.TOKEN_EXPIRED: 401,
    ProblemCode.ACCOUNT_LOCKED: 403,
    ProblemCode.TERMS_REQUIRED: 403,
    ProblemCode.CERT_NOT_ACCEPTED: 403,
    ProblemCode.TLS_REQUIRED: 403,
    ProblemCode.CSR_INVALID: 400,
    ProblemCode.REQUEST_INVALID: 400,
    ProblemCode.NOT_FOUND: 404,
    ProblemCode.METHOD_NOT_ALLOWED: 405,
    ProblemCode.TERMS_STALE: 409,
    ProblemCode.REQUEST_TOO_LARGE: 413,
    ProblemCode.MEDIA_TYPE_UNSUPPORTED: 415,
    ProblemCode.RATE_LIMITED: 429,
    ProblemCode.INTERNAL_ERROR: 500,
    ProblemCode.UNAVAILABLE: 503,
}

_TITLES: dict[ProblemCode, str] = {
    ProblemCode.AUTH_INVALID: "The EPOC number or PIN is not correct",
    ProblemCode.AUTH_REQUIRED: "Credentials are required",
    ProblemCode.PIN_SUPERSEDED: "A newer PIN has been issued for this account",
    ProblemCode.PIN_EXPIRED: "The PIN has expired",
    ProblemCode.PIN_USED: "The PIN has already been used",
    ProblemCode.TOKEN_INVALID: "The logon token is not valid; send the EPOC number and PIN",
    ProblemCode.TOKEN_EXPIRED: "The logon token has expired; send the EPOC number and PIN",
    ProblemCode.ACCOUNT_LOCKED: "The account is locked after too many wrong PINs",
    ProblemCode.TERMS_REQUIRED: "The current terms of use have not been accepted",
    ProblemCode.CERT_NOT_ACCEPTED: "The client certificate is not accepted",
    ProblemCode.TLS_REQUIRED: "This service must be reached over HTTPS",
    ProblemCode.CSR_INVALID: "The certificate request is not acceptable",
    ProblemCode.REQUEST_INVALID: "The request is malformed",
    ProblemCode.NOT_FOUND: "Not found",
    ProblemCode.METHOD_NOT_ALLOWED: "Method not allowed",
    ProblemCode.TERMS_STALE: "The accepted terms are not the current version",
    ProblemCode.REQUEST_TOO_LARGE: "The request body is too large",
    ProblemCode.MEDIA_TYPE_UNSUPPORTED: "Unsupported content type",
    ProblemCode.RATE_LIMITED: "Too many requests",
    ProblemCode.INTERNAL_ERROR: "The service met an unexpected error",
    ProblemCode.UNAVAILABLE: "The service is temporarily unavailable",
}


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Problem(_Wire):
    """An RFC 9457 problem document with the CCMS members `code` and `reference`."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    code: str
    reference: str | None = None
    attempts_remaining: int | None = None
    current_version: str | None = None


CertStatus = Literal["valid", "expired", "revoked"]


class PinInfo(_Wire):
    issued_at: datetime
    expires_at: datetime


class CertificateSummary(_Wire):
    serial: str = Field(description="lower-case hex, no separators")
    not_before: datetime
    not_after: datetime
    status: CertStatus


class LogonToken(_Wire):
    """Sent back as `Authorization: Bearer <token>` after a PIN logon, so that the rest of
    one renewal needs no second slow PIN check. Bound to the EPOC and PIN; short-lived."""

    token: SecretStr = Field(min_length=1, max_length=512)
    expires_at: datetime

    @field_serializer("token", when_used="json")
    def _token_on_the_wire(self, value: SecretStr) -> str:
        return value.get_secret_value()


class AccountInfo(_Wire):
    epoc: str
    display_name: str
    organisation: str
    role: str
    terms_accepted_version: str | None
    pin: PinInfo | None
    certificates: list[CertificateSummary]
    renewal_window_days: int
    logon_token: LogonToken | None = None  # only after a logon with EPOC + PIN


class TermsDocument(_Wire):
    version: str
    title: str
    text: str
    sha256: str


class TermsAcceptance(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, max_length=64)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ReleaseArtifact(_Wire):
    platform: str
    kind: str
    url: str
    sha256: str
    size: int = Field(ge=0)


class ReleaseSigned(_Wire):
    schema_: Literal[1] = Field(alias="schema", default=1)
    product: str = "ecmt"
    channel: str = "stable"
    serial: int = Field(ge=0)
    issued: datetime
    expires: datetime
    latest_version: str
    minimum_version: str
    install_page: str
    release_notes: str = ""
    artifacts: list[ReleaseArtifact] = []

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class ReleaseSignature(_Wire):
    keyid: str
    sig: str


class ReleaseManifest(_Wire):
    """The signed envelope. `signed` is kept as raw JSON so signatures stay verifiable."""

    signed: dict[str, Any]
    signatures: list[ReleaseSignature] = Field(min_length=1)

    def body(self) -> ReleaseSigned:
        return ReleaseSigned.model_validate(self.signed)

    def signed_by_any(self, trusted: Mapping[str, Ed25519PublicKey]) -> bool:
        """True when a signature by one of `trusted` (keyid -> key) covers canonical `signed`."""
        try:
            message = canonical_json(self.signed)
        except ValueError:  # a lone surrogate has no UTF-8 form, so nothing signed it
            return False
        for signature in self.signatures:
            key = trusted.get(signature.keyid)
            if key is None:
                continue
            try:
                key.verify(base64.b64decode(signature.sig, validate=True), message)
            except (InvalidSignature, ValueError):
                continue
            return True
        return False


def canonical_json(value: Any) -> bytes:
    """The bytes a release signature covers: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def client_subject(display_name: str, epoc: str, role: str, organisation: str) -> x509.Name:
    """The issued profile's subject: `CN=<name>, serialNumber=<EPOC>, OU=<role>, O=<org>`."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, epoc),
            x509.NameAttribute(NameOID.COMMON_NAME, display_name),
        ]
    )
