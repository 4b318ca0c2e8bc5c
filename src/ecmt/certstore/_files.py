"""A folder of PKCS#12 files: the store where no browser database or OS store is wanted.

Per certificate, named by its SHA-256: `<fp>.p12` (LEGACY, so a copy imports anywhere;
friendlyName set) with key, certificate and chain, encrypted with a password kept in the
SecretStore; `<fp>.pem` with the certificate and chain but no key, so listing needs no
password. Files are 0600 in a 0700 folder, written atomically; the .p12 is written before
the .pem and removed after it, so a listed certificate always has its key on disk.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from secrets import token_urlsafe

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ccms_protocol.files import private_dir, write_atomic

from .. import pkcs12
from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import BackupFormat, ClientIdentity, PrivateKey, Profile, StoredCertificate
from ..domain.models import fingerprint as fingerprint_of  # methods take `fingerprint`
from ..secrets import SecretStore

log = logging.getLogger(__name__)
PASSWORD_NAME = "files-store-password"  # noqa: S105 - the secret's name
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")


class FileStore:
    def __init__(self, folder: Path, secrets: SecretStore) -> None:
        self.folder = folder.expanduser()
        self._secrets = secrets

    @property
    def description(self) -> str:
        home = Path.home()
        if self.folder.is_relative_to(home):
            return f"certificate folder ~/{self.folder.relative_to(home)}"
        return f"certificate folder {self.folder}"

    def available(self) -> bool:
        path = self.folder
        while not path.exists() and path != path.parent:
            path = path.parent
        return path.is_dir()

    def needs_elevation(self) -> bool:
        return False  # a folder of the user's own

    def list(self, profile: Profile) -> list[StoredCertificate]:
        return [s for s in self._all() if profile.matches(s.certificate)]

    def find(self, fingerprint: str) -> StoredCertificate | None:
        fp = fingerprint.lower()
        return self._read(fp) if _FINGERPRINT.fullmatch(fp) else None

    def install(
        self,
        key: PrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
        friendly_name: str,
    ) -> StoredCertificate:
        fp = fingerprint_of(certificate)
        try:
            private_dir(self.folder)
            password = self._password()
            data = pkcs12.build(
                key, certificate, chain, friendly_name, password, BackupFormat.LEGACY
            )
            self._write_p12(fp, data, password)
            write_atomic(self._path(fp, "pem"), _pem_file(certificate, chain, friendly_name))
        except OSError as exc:
            raise EcmtError(ErrorCode.STORE_ERROR, f"{type(exc).__name__}: {exc}") from None
        stored = self._read(fp)
        if stored is None:
            raise EcmtError(ErrorCode.STORE_ERROR, "written certificate did not read back")
        return stored

    def remove(self, fingerprint: str) -> None:
        fp = fingerprint.lower()
        pem, p12 = self._path(fp, "pem"), self._path(fp, "p12")
        if not _FINGERPRINT.fullmatch(fp) or not (pem.exists() or p12.exists()):
            raise EcmtError(ErrorCode.STORE_NOT_FOUND, f"no certificate {fp[:16]} in the folder")
        try:
            pem.unlink(missing_ok=True)
            p12.unlink(missing_ok=True)
        except OSError as exc:
            raise EcmtError(ErrorCode.STORE_ERROR, f"{type(exc).__name__}: {exc}") from None

    def load_identity(self, fingerprint: str) -> ClientIdentity:
        """Key, certificate and chain from the .p12, e.g. for TLS client authentication."""
        fp = fingerprint.lower()
        if not _FINGERPRINT.fullmatch(fp) or not self._path(fp, "pem").exists():
            raise EcmtError(ErrorCode.STORE_NOT_FOUND, f"no certificate {fp[:16]} in the folder")
        try:
            data = self._path(fp, "p12").read_bytes()
        except FileNotFoundError:
            raise EcmtError(ErrorCode.BACKUP_NO_KEY, f"no {fp[:16]}.p12 in the folder") from None
        password = self._secrets.get(PASSWORD_NAME)
        if password is None:
            raise EcmtError(ErrorCode.STORE_WRONG_PASSWORD, "store password missing from secrets")
        opened = pkcs12.open_(data, password.encode("utf-8"))
        if fingerprint_of(opened.certificate) != fp:
            raise EcmtError(ErrorCode.STORE_ERROR, f"{fp[:16]}.p12 holds another certificate")
        return ClientIdentity(opened.certificate, opened.key, opened.chain)

    def _path(self, fp: str, suffix: str) -> Path:
        return self.folder / f"{fp}.{suffix}"

    def _password(self) -> bytes:
        """The store password, made on first use."""
        value = self._secrets.get(PASSWORD_NAME)
        if value is None:
            self._secrets.set(PASSWORD_NAME, token_urlsafe(24))
            value = self._secrets.get(PASSWORD_NAME)  # whoever wrote last wins, for everyone
        if not value:
            raise EcmtError(ErrorCode.KEYRING_UNAVAILABLE, "store password did not persist")
        return value.encode("utf-8")

    def _write_p12(self, fp: str, data: bytes, password: bytes) -> None:
        path = self._path(fp, "p12")
        try:
            write_atomic(path, data, replace=False)
        except FileExistsError:
            try:
                if fingerprint_of(pkcs12.open_(path.read_bytes(), password).certificate) == fp:
                    return  # already here with its key
            except EcmtError:
                pass
            log.warning("replacing %s: it does not open with the store password", path.name)
            write_atomic(path, data)

    def _all(self) -> Iterator[StoredCertificate]:
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*.pem")):
            stored = self._read(path.stem) if _FINGERPRINT.fullmatch(path.stem) else None
            if stored is not None:
                yield stored

    def _read(self, fp: str) -> StoredCertificate | None:
        try:
            data = self._path(fp, "pem").read_bytes()
            cert = x509.load_pem_x509_certificates(data)[0]
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("skipping %s.pem: %s", fp, exc)
            return None
        if fingerprint_of(cert) != fp:
            log.warning("skipping %s.pem: it holds another certificate", fp)
            return None
        return StoredCertificate(
            certificate=cert,
            has_private_key=self._path(fp, "p12").is_file(),
            location=self.description,
            label=_friendly_name(data),
        )


def _pem_file(cert: x509.Certificate, chain: Sequence[x509.Certificate], name: str) -> bytes:
    """Certificate then chain, under OpenSSL's "Bag Attributes" header naming it."""
    shown = "".join(ch for ch in name if ch.isprintable())
    header = f"Bag Attributes\n    friendlyName: {shown}\n".encode()
    blocks = (c.public_bytes(serialization.Encoding.PEM) for c in (cert, *chain))
    return header + b"".join(blocks)


def _friendly_name(data: bytes) -> str | None:
    head = data.split(b"-----BEGIN", 1)[0].decode("utf-8", "replace")
    for line in head.splitlines():
        name, sep, value = line.strip().partition(":")
        if sep and name == "friendlyName":
            return value.strip() or None
    return None
