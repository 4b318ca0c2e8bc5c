"""NSS shared database (`sql:DIR`): Chrome's ~/.pki/nssdb, Firefox profiles, /etc/pki/nssdb.

What NSS 3.87's certutil/pk12util do (tests/integration/test_store_nss.py keeps it true):

- pk12util names an imported certificate after the PKCS#12 friendlyName, but a certificate
  whose subject is already in the database inherits that subject's nickname, so a renewed
  certificate shares its nickname with the one it supersedes.
- `-n NICK` then picks one of them by NSS's own preference: a certificate valid now (with
  NSS's one-day slop on notBefore) before one that is not, then the newer. Right after a
  renewal that is the NEW one, so `certutil -F -n NICK` "to remove the old certificate"
  removes the one just installed. A nickname cannot address a certificate.
- `-n` also takes a PKCS#11 URI. `pkcs11:object=NICK;type=cert;id=CKA_ID` names one
  certificate object, because NSS derives CKA_ID from the public key (`_nss_tool.key_id`).

So `remove` lists every certificate first, refuses if another one has the same public key
(the URI could then match both), runs `certutil -F` (certificate and key) or, for a
certificate without a key, `-D` (`-F` does nothing then), and lists again: the target must
be gone and every other certificate still there, otherwise STORE_ERROR.
"""

from __future__ import annotations

import builtins
import logging
import os
import subprocess
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pydantic import SecretStr

from .. import pkcs12
from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import (
    BackupFormat,
    ClientIdentity,
    PrivateKey,
    Profile,
    StoredCertificate,
    fingerprint,
)
from ._nss_tool import (
    NssTool,
    Runner,
    Session,
    cert_uri,
    display_label,
    key_id,
    parse_nicknames,
    parse_pem,
)

log = logging.getLogger(__name__)
DB_FILES = ("cert9.db", "key4.db")


@dataclass(frozen=True)
class _Entry:
    certificate: x509.Certificate
    nickname: str
    fingerprint: str
    cka_id: bytes | None
    has_key: bool


class NssStore:
    """One NSS database, driven through the real certutil and pk12util."""

    def __init__(
        self,
        directory: Path,
        create: bool = True,
        runner: Runner = subprocess.run,
        *,
        password: SecretStr | None = None,
    ) -> None:
        self.directory = directory.expanduser()
        self._create = create
        self._tool = NssTool(self.directory, password, runner)

    @property
    def description(self) -> str:
        home = Path.home()
        shown = self.directory
        if shown.is_relative_to(home):
            return f"NSS database ~/{shown.relative_to(home)}"
        return f"NSS database {shown}"

    def available(self) -> bool:
        if not NssTool.installed():
            return False
        return self._exists() or (self._create and _nearest_existing(self.directory).is_dir())

    def needs_elevation(self) -> bool:
        folder = _nearest_existing(self.directory)
        paths = [folder, *(folder / name for name in DB_FILES if (folder / name).exists())]
        return not all(os.access(path, os.W_OK) for path in paths)

    def list(self, profile: Profile) -> list[StoredCertificate]:
        if not self._exists():
            return []
        with self._tool.session() as session:
            entries = self._entries(session)
        return [self._stored(e) for e in entries if profile.matches(e.certificate)]

    def find(self, fingerprint: str) -> StoredCertificate | None:
        if not self._exists():
            return None
        with self._tool.session() as session:
            entry = _by_fingerprint(self._entries(session), fingerprint.lower())
        return self._stored(entry) if entry else None

    def install(
        self,
        key: PrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
        friendly_name: str,
    ) -> StoredCertificate:
        secret = pkcs12.one_time_password()
        data = pkcs12.build(key, certificate, chain, friendly_name, secret, BackupFormat.LEGACY)
        with self._tool.session() as session:
            self._ensure_db(session)
            p12 = session.write("import.p12", data)
            p12_password = session.write("import.pw", secret)
            self._tool.import_p12(session, p12, p12_password)
            entry = _by_fingerprint(self._entries(session), fingerprint(certificate))
        if entry is None:
            raise EcmtError(ErrorCode.STORE_ERROR, "pk12util succeeded; certificate not listed")
        return self._stored(entry)

    def remove(self, fingerprint: str) -> None:
        if not self._exists():
            raise EcmtError(ErrorCode.STORE_NOT_FOUND, "no NSS database")
        with self._tool.session() as session:
            before = self._entries(session)
            target = _require(before, fingerprint.lower())
            self._tool.delete(session, _address(target, before), with_key=target.has_key)
            after = self._entries(session)
            key_left = target.has_key and target.cka_id in self._tool.key_ids(session)
        _check_removed(before, after, target)
        if key_left:
            log.warning("certutil -F left the key of %s behind", target.fingerprint)

    def load_identity(self, fingerprint: str) -> ClientIdentity:
        """Key, certificate and chain, exported by pk12util into a private temporary folder."""
        if not self._exists():
            raise EcmtError(ErrorCode.STORE_NOT_FOUND, "no NSS database")
        secret = pkcs12.one_time_password()
        with self._tool.session() as session:
            entries = self._entries(session)
            target = _require(entries, fingerprint.lower())
            if not target.has_key:
                raise EcmtError(ErrorCode.BACKUP_NO_KEY, "no private key in the NSS database")
            out = session.folder / "export.p12"
            p12_password = session.write("export.pw", secret)
            self._tool.export_p12(session, _address(target, entries), out, p12_password)
            data = out.read_bytes()
        with warnings.catch_warnings():  # NSS writes BER; cryptography warns and parses it
            warnings.filterwarnings("ignore", "PKCS#12 bundle could not be parsed as DER")
            opened = pkcs12.open_(data, secret)
        if opened.certificate.public_bytes(serialization.Encoding.DER) != _der(target):
            raise EcmtError(ErrorCode.STORE_ERROR, "pk12util exported another certificate")
        chain = tuple(c for c in opened.chain if c != target.certificate)
        return ClientIdentity(opened.certificate, opened.key, chain)

    def _exists(self) -> bool:
        return any((self.directory / name).is_file() for name in ("cert9.db", "cert8.db"))

    def _ensure_db(self, session: Session) -> None:
        if self._exists():
            return
        if not self._create:
            raise EcmtError(ErrorCode.STORE_UNAVAILABLE, f"no NSS database in {self.directory}")
        try:
            if not self.directory.exists():
                self.directory.mkdir(parents=True, mode=0o700)
                self.directory.chmod(0o700)
        except PermissionError as exc:
            raise EcmtError(ErrorCode.STORE_ELEVATION_REQUIRED, str(exc)) from None
        except OSError as exc:
            raise EcmtError(ErrorCode.STORE_UNAVAILABLE, str(exc)) from None
        if self._tool.has_password:
            self._tool.certutil("-N", "-d", self._tool.db, "-f", str(session.db_password))
        else:
            self._tool.certutil("-N", "-d", self._tool.db, "--empty-password")

    def _entries(self, session: Session) -> builtins.list[_Entry]:
        """Every certificate in the database, once each, with its nickname and key status."""
        keys = self._tool.key_ids(session)
        found: dict[str, _Entry] = {}
        for nickname in parse_nicknames(self._tool.certutil("-L", "-d", self._tool.db)):
            try:
                pem = self._tool.certutil("-L", "-d", self._tool.db, "-n", nickname, "-a")
            except EcmtError as exc:
                if exc.code is not ErrorCode.STORE_NOT_FOUND:
                    raise
                log.warning("certutil lists %r but cannot show it", nickname)
                continue
            for cert in parse_pem(pem):  # every certificate with this nickname's subject
                fp = fingerprint(cert)
                cka_id = key_id(cert)
                has_key = cka_id is not None and cka_id in keys
                found.setdefault(fp, _Entry(cert, nickname, fp, cka_id, has_key))
        return list(found.values())

    def _stored(self, entry: _Entry) -> StoredCertificate:
        return StoredCertificate(
            certificate=entry.certificate,
            has_private_key=entry.has_key,
            location=self.description,
            label=display_label(entry.nickname),
        )


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _by_fingerprint(entries: Sequence[_Entry], fp: str) -> _Entry | None:
    return next((e for e in entries if e.fingerprint == fp), None)


def _require(entries: Sequence[_Entry], fp: str) -> _Entry:
    entry = _by_fingerprint(entries, fp)
    if entry is None:
        raise EcmtError(ErrorCode.STORE_NOT_FOUND, f"no certificate {fp[:16]} in the database")
    return entry


def _der(entry: _Entry) -> bytes:
    return entry.certificate.public_bytes(serialization.Encoding.DER)


def _spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _address(target: _Entry, entries: Sequence[_Entry]) -> str:
    """The URI naming only `target`, or STORE_ERROR when NSS could not tell it apart."""
    if target.cka_id is None:
        raise EcmtError(ErrorCode.STORE_ERROR, "cannot address this key type in NSS")
    spki = _spki(target.certificate)
    if any(e is not target and _spki(e.certificate) == spki for e in entries):
        raise EcmtError(
            ErrorCode.STORE_ERROR, "another certificate in the database has the same key"
        )
    return cert_uri(target.nickname, target.cka_id)


def _check_removed(before: Sequence[_Entry], after: Sequence[_Entry], target: _Entry) -> None:
    remaining = {e.fingerprint for e in after}
    if target.fingerprint in remaining:
        raise EcmtError(ErrorCode.STORE_ERROR, "certutil succeeded; certificate still listed")
    lost = [e for e in before if e.fingerprint not in remaining and e is not target]
    if lost:
        for entry in lost:
            log.error("certutil also removed %s (%s)", entry.fingerprint, entry.nickname)
        raise EcmtError(ErrorCode.STORE_ERROR, f"certutil also removed {len(lost)} certificate(s)")
