"""The pending-renewal journal: key and CSR kept, encrypted, until the certificate is installed.

A crash or a lost response after the server issued is recovered on the next run by sending
the same CSR again: the CCMS answers a repeated key with the same certificate. The journal
is encrypted (Fernet) with a key kept in the OS keyring, so the file alone is useless.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ccms_protocol.files import private_dir, write_atomic

from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import PrivateKey
from ..secrets import SecretStore

KEYRING_ENTRY = "journal-key"
MAX_AGE = timedelta(hours=24)  # the server's idempotency window for simpleenroll


@dataclass(frozen=True)
class PendingRenewal:
    epoc: str
    via: str  # "enroll" or "reenroll"
    key: PrivateKey
    csr_der: bytes
    created: datetime

    def __repr__(self) -> str:
        return f"PendingRenewal(epoc={self.epoc!r}, via={self.via!r}, key=<hidden>)"


class Journal:
    def __init__(self, folder: Path, secrets: SecretStore) -> None:
        self._folder = folder
        self._secrets = secrets

    def _path(self, epoc: str) -> Path:
        return self._folder / f"pending-{epoc}.json"

    def _fernet(self, create: bool) -> Fernet | None:
        secret = self._secrets.get(KEYRING_ENTRY)
        if secret is None:
            if not create:
                return None
            secret = Fernet.generate_key().decode()
            self._secrets.set(KEYRING_ENTRY, secret)
        return Fernet(secret.encode())

    def save(self, pending: PendingRenewal) -> None:
        fernet = self._fernet(create=True)
        assert fernet is not None
        key_der = pending.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        plain = json.dumps(
            {
                "epoc": pending.epoc,
                "via": pending.via,
                "key": base64.b64encode(key_der).decode(),
                "csr": base64.b64encode(pending.csr_der).decode(),
                "created": pending.created.isoformat(),
            }
        ).encode()
        private_dir(self._folder)
        write_atomic(self._path(pending.epoc), fernet.encrypt(plain))

    def load(self, epoc: str, now: datetime | None = None) -> PendingRenewal | None:
        """The pending renewal for EPOC, or None; one older than a day is discarded."""
        path = self._path(epoc)
        if not path.exists():
            return None
        fernet = self._fernet(create=False)
        try:
            if fernet is None:
                raise InvalidToken
            data = json.loads(fernet.decrypt(path.read_bytes()))
            key = serialization.load_der_private_key(base64.b64decode(data["key"]), None)
            if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
                raise ValueError("key type")
            pending = PendingRenewal(
                epoc=data["epoc"],
                via=data["via"],
                key=key,
                csr_der=base64.b64decode(data["csr"]),
                created=datetime.fromisoformat(data["created"]),
            )
        except (InvalidToken, ValueError, KeyError, TypeError):
            # set it aside: this run reports it, the next one starts afresh
            path.replace(path.with_suffix(".unreadable"))
            raise EcmtError(ErrorCode.JOURNAL_UNREADABLE, str(path)) from None
        if (now or datetime.now(UTC)) - pending.created > MAX_AGE:
            self.clear(epoc)
            return None
        return pending

    def clear(self, epoc: str) -> None:
        self._path(epoc).unlink(missing_ok=True)
