"""Logon tokens: after one PIN check, the rest of a renewal is authenticated by an HMAC.

A PIN check costs 1 + superseded_pins_checked argon2 verifications; the token lets the terms
acceptance and the enrolment that follow a logon skip them. A token names an EPOC, a PIN
and an expiry, and is worth no more than that PIN: the caller still checks that the PIN is
current, unused and unexpired, so once a certificate is issued with it, the token is spent.

The secret lives in DATA_DIR/private/logon-token.key.pem, stored like every other key
(0600, encrypted with the key passphrase when there is one). It is a random Ed25519 key
only so that it has a PKCS#8 form to be encrypted in; the HMAC key is a hash of it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ccms_protocol.wire import LogonToken, ProblemCode

from .db.models import utcnow
from .keys import KeyFileError, load_key, save_key
from .problems import ProblemError

MAX_TOKEN_LENGTH = 512
_VERSION = 1
_CONTEXT = b"ccms logon token v1\x00"
_CHALLENGE = 'Bearer realm="CCMS", error="invalid_token"'


@dataclass(frozen=True)
class TokenClaims:
    epoc: str
    pin_id: int


def create_key(path: Path, passphrase: bytes | None) -> None:
    """A new secret; every token made with the one it replaces stops working."""
    save_key(path, ed25519.Ed25519PrivateKey.generate(), passphrase)


def load_secret(path: Path, passphrase: bytes | None) -> bytes:
    """The HMAC key, made first if DATA_DIR predates logon tokens."""
    if not path.exists():
        create_key(path, passphrase)
    key = load_key(path, passphrase)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not a logon-token key")
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return hashlib.sha256(_CONTEXT + raw).digest()


def refused(code: ProblemCode) -> ProblemError:
    return ProblemError(code, headers={"WWW-Authenticate": _CHALLENGE})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LogonTokens:
    def __init__(
        self,
        secret: bytes,
        lifetime: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._secret = secret
        self._lifetime = lifetime
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self._lifetime > timedelta(0)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, _CONTEXT + payload, hashlib.sha256).digest()

    def issue(self, epoc: str, pin_id: int) -> LogonToken:
        expires = int((self._clock() + self._lifetime).timestamp())
        payload = json.dumps([_VERSION, epoc, pin_id, expires], separators=(",", ":")).encode()
        token = f"{_b64(payload)}.{_b64(self._mac(payload))}"
        return LogonToken(token=token, expires_at=datetime.fromtimestamp(expires, UTC))

    def verify(self, token: str) -> TokenClaims:
        """The claims of a token this server made and that has not expired; anything else
        is TOKEN_INVALID (or TOKEN_EXPIRED), never a hint about which part failed."""
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise refused(ProblemCode.TOKEN_INVALID)
        encoded, _, mac = token.partition(".")
        try:
            payload, given = _unb64(encoded), _unb64(mac)
        except (binascii.Error, ValueError):
            raise refused(ProblemCode.TOKEN_INVALID) from None
        if not hmac.compare_digest(self._mac(payload), given):
            raise refused(ProblemCode.TOKEN_INVALID)
        try:  # made here, since the MAC matched; a later format may still differ
            version, epoc, pin_id, expires = json.loads(payload)
        except (ValueError, TypeError):
            raise refused(ProblemCode.TOKEN_INVALID) from None
        if version != _VERSION:
            raise refused(ProblemCode.TOKEN_INVALID)
        if self._clock().timestamp() >= expires:
            raise refused(ProblemCode.TOKEN_EXPIRED)
        return TokenClaims(str(epoc), int(pin_id))
