"""The macOS keychain: the login keychain (`macos:login`) or the System keychain
(`macos:system`, administrators only), through the Security framework in process.

Install imports an in-memory PKCS#12 with SecPKCS12Import into the chosen keychain. The
PKCS#12 is 3DES/SHA-1 under a one-time password: older macOS refuses AES-encrypted files
with "MAC verification failed", and no password ever reaches a command line (`security
import -P` would show it in `ps`). The new key gets an access list naming this program
and the browsers that are installed (Safari, Chrome, Edge), so they use it without a
prompt per app; then certificate and key are labelled with the friendly name. A failure
after the import removes what it added. Issuing CAs already in the keychain are left out of
the PKCS#12, and "already exists" is success when the certificate and its key are there.

Certificates are found by SHA-256 of their DER (the keychain indexes SHA-1 only); a key
belongs to a certificate when its kSecAttrApplicationLabel equals the certificate's
kSecAttrPublicKeyHash. Remove deletes the key (unless another certificate uses it) and
the certificate, then lists again, as the other adapters do. `load_identity` exports the
identity in memory; a key the keychain will not hand out is BACKUP_NO_KEY.
"""

from __future__ import annotations

import builtins
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .. import pkcs12
from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import BackupFormat, ClientIdentity, PrivateKey, Profile, StoredCertificate
from ..domain.models import fingerprint as fingerprint_of
from . import _keychain as kc
from ._mac_errors import EXPORT, IMPORT, SecurityError, errSecDuplicateItem, store_error

log = logging.getLogger(__name__)
KEYCHAINS = {
    "login": Path("~/Library/Keychains/login.keychain-db"),
    "system": Path("/Library/Keychains/System.keychain"),
}
BROWSERS = (
    "/Applications/Safari.app",
    "/Applications/Google Chrome.app",
    "/Applications/Microsoft Edge.app",
)


@dataclass(frozen=True)
class _Entry:
    ref: Any
    certificate: x509.Certificate
    fingerprint: str
    key_hash: bytes
    label: str | None
    keys: tuple[Any, ...]  # references of the keys with this public key hash

    @property
    def has_key(self) -> bool:
        return bool(self.keys)


class MacosStore:
    """One keychain file, through `sec` (PyObjC's Security module, or a test's fake)."""

    def __init__(
        self,
        location: str,
        *,
        keychain: Path | None = None,
        api: Any = None,
        browsers: Sequence[str] = BROWSERS,
    ) -> None:
        if location not in KEYCHAINS:
            raise ValueError(f"location must be one of {sorted(KEYCHAINS)}")
        self.location = location
        self.path = (keychain or KEYCHAINS[location]).expanduser()
        self.browsers = list(browsers)
        self._api = api

    @property
    def description(self) -> str:
        home = Path.home()
        shown = f"~/{self.path.relative_to(home)}" if self.path.is_relative_to(home) else self.path
        return f"macOS {self.location} keychain {shown}"

    @property
    def sec(self) -> Any:
        if self._api is None:
            if sys.platform != "darwin":
                raise EcmtError(ErrorCode.STORE_UNAVAILABLE, "the keychain is macOS only")
            try:
                self._api = kc.load()
            except ImportError as exc:
                raise EcmtError(ErrorCode.STORE_UNAVAILABLE, f"Security framework: {exc}") from None
        return self._api

    def available(self) -> bool:
        try:
            self._keychain()
        except EcmtError:
            return False
        return True

    def needs_elevation(self) -> bool:
        """The System keychain, for a user who may not write its file."""
        return self.location == "system" and not os.access(self.path, os.W_OK)

    def list(self, profile: Profile) -> builtins.list[StoredCertificate]:
        return [self._stored(e) for e in self._entries() if profile.matches(e.certificate)]

    def find(self, fingerprint: str) -> StoredCertificate | None:
        entry = _by_fingerprint(self._entries(), fingerprint.lower())
        return self._stored(entry) if entry else None

    def install(
        self,
        key: PrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
        friendly_name: str,
    ) -> StoredCertificate:
        if self.needs_elevation():
            raise EcmtError(ErrorCode.STORE_ELEVATION_REQUIRED, f"{self.description}: read-only")
        keychain = self._keychain()
        fp = fingerprint_of(certificate)
        before = {e.fingerprint for e in self._entries(keychain)}
        missing_cas = [c for c in chain if fingerprint_of(c) not in before]  # no duplicates
        secret = pkcs12.one_time_password()
        data = pkcs12.build(
            key, certificate, missing_cas, friendly_name, secret, BackupFormat.LEGACY
        )
        try:
            try:
                access = kc.trusted_access(self.sec, friendly_name, self.browsers)
                kc.import_pkcs12(self.sec, keychain, data, secret.decode(), access)
            except SecurityError as exc:
                if exc.status != errSecDuplicateItem or not self._complete(keychain, fp):
                    raise self._error(exc, IMPORT) from None
                log.info("SecPKCS12Import: %s is already in %s", fp[:16], self.description)
            entry = self._labelled(keychain, fp, friendly_name)
        except BaseException:
            if fp not in before:
                self._quietly(lambda: self._take_back(certificate), "removing the new certificate")
            raise
        return self._stored(entry)

    def remove(self, fingerprint: str) -> None:
        fp = fingerprint.lower()
        keychain = self._keychain()
        before = self._entries(keychain)
        target = _by_fingerprint(before, fp)
        if target is None:
            raise EcmtError(ErrorCode.STORE_NOT_FOUND, f"no certificate {fp[:16]} in the keychain")
        try:
            if not _shared(target, before):
                for key in target.keys:
                    kc.delete(self.sec, self.sec.kSecClassKey, key)
            kc.delete(self.sec, self.sec.kSecClassCertificate, target.ref)
        except SecurityError as exc:
            raise self._error(exc) from None
        after = self._entries(keychain)
        _check_removed(before, after, target)
        if not _shared(target, after) and self._keys_left(keychain, target.key_hash):
            log.warning("the key of %s is still in %s", fp[:16], self.description)

    def load_identity(self, fingerprint: str) -> ClientIdentity:
        """Exported in memory under a one-time password; the chain from the keychain."""
        fp = fingerprint.lower()
        keychain = self._keychain()
        entries = self._entries(keychain)
        target = _by_fingerprint(entries, fp)
        if target is None:
            raise EcmtError(ErrorCode.STORE_NOT_FOUND, f"no certificate {fp[:16]} in the keychain")
        if not target.has_key:
            raise EcmtError(ErrorCode.BACKUP_NO_KEY, "no private key in the keychain")
        secret = pkcs12.one_time_password()
        try:
            data = kc.export_pkcs12(self.sec, keychain, target.ref, secret.decode())
        except SecurityError as exc:
            raise self._error(exc, EXPORT, "exporting the key") from None
        opened = pkcs12.open_(data, secret)
        if fingerprint_of(opened.certificate) != fp:
            raise EcmtError(ErrorCode.STORE_ERROR, "SecItemExport gave another certificate")
        return ClientIdentity(opened.certificate, opened.key, _issuers(target, entries))

    # --- reading -------------------------------------------------------------------------

    def _keychain(self) -> Any:
        """The keychain, opened and checked to exist (SecKeychainOpen alone never fails)."""
        try:
            keychain = kc.open_keychain(self.sec, self.path)
            kc.keychain_status(self.sec, keychain)
        except SecurityError as exc:
            raise self._error(exc, context=str(self.path)) from None
        return keychain

    def _entries(self, keychain: Any = None) -> builtins.list[_Entry]:
        """Every certificate in the keychain, with the private keys that belong to it."""
        keychain = keychain if keychain is not None else self._keychain()
        sec = self.sec
        entries: builtins.list[_Entry] = []
        try:
            keys: dict[bytes, builtins.list[Any]] = {}
            for item in self._private_keys(keychain):
                keys.setdefault(_data(item.get(sec.kSecAttrApplicationLabel)), []).append(item)
            for item in kc.search(sec, keychain, sec.kSecClassCertificate):
                ref = item[sec.kSecValueRef]
                try:
                    cert = x509.load_der_x509_certificate(kc.certificate_der(sec, ref))
                except ValueError as exc:
                    log.warning("skipping an unreadable certificate in the keychain: %s", exc)
                    continue
                key_hash = _data(item.get(sec.kSecAttrPublicKeyHash))
                mine = keys.get(key_hash, []) if key_hash else []
                label = _label(mine, sec) or _text(item.get(sec.kSecAttrLabel))
                refs = tuple(k[sec.kSecValueRef] for k in mine)
                entries.append(_Entry(ref, cert, fingerprint_of(cert), key_hash, label, refs))
        except SecurityError as exc:
            raise self._error(exc) from None
        return entries

    def _private_keys(self, keychain: Any, key_hash: bytes | None = None) -> builtins.list[Any]:
        sec = self.sec
        match: dict[str, Any] = {"kSecAttrKeyClass": sec.kSecAttrKeyClassPrivate}
        if key_hash is not None:
            match["kSecAttrApplicationLabel"] = key_hash
        return kc.search(sec, keychain, sec.kSecClassKey, **match)

    def _stored(self, entry: _Entry) -> StoredCertificate:
        return StoredCertificate(
            certificate=entry.certificate,
            has_private_key=entry.has_key,
            location=self.description,
            label=entry.label,
        )

    # --- install steps -------------------------------------------------------------------

    def _labelled(self, keychain: Any, fp: str, friendly_name: str) -> _Entry:
        """The imported certificate, checked to have its key, named on certificate and key."""
        entry = _by_fingerprint(self._entries(keychain), fp)
        if entry is None or not entry.has_key:
            raise EcmtError(
                ErrorCode.STORE_ERROR, "SecPKCS12Import succeeded; certificate or key not found"
            )
        sec = self.sec
        try:
            kc.set_label(sec, sec.kSecClassCertificate, entry.ref, friendly_name)
            for key in entry.keys:
                kc.set_label(sec, sec.kSecClassKey, key, friendly_name)
        except SecurityError as exc:
            raise self._error(exc, context="naming the certificate") from None
        named = _by_fingerprint(self._entries(keychain), fp)
        if named is None:
            raise EcmtError(ErrorCode.STORE_ERROR, "the certificate went missing after naming it")
        return named

    def _complete(self, keychain: Any, fp: str) -> bool:
        entry = _by_fingerprint(self._entries(keychain), fp)
        return entry is not None and entry.has_key

    def _take_back(self, certificate: x509.Certificate) -> None:
        """After a failed install: the certificate and its key, also a key the import left
        without its certificate (unless another certificate uses that key)."""
        fp = fingerprint_of(certificate)
        entries = self._entries()
        if _by_fingerprint(entries, fp) is not None:
            self.remove(fp)
            return
        key_hash = public_key_hash(certificate)
        if any(e.key_hash == key_hash for e in entries):
            return
        keychain = self._keychain()
        try:
            for item in self._private_keys(keychain, key_hash):
                kc.delete(self.sec, self.sec.kSecClassKey, item[self.sec.kSecValueRef])
        except SecurityError as exc:
            raise self._error(exc, context="removing the new key") from None

    def _keys_left(self, keychain: Any, key_hash: bytes) -> bool:
        try:
            return bool(self._private_keys(keychain, key_hash))
        except SecurityError:
            return False

    def _quietly(self, action: Callable[[], object], what: str) -> None:
        try:
            action()
        except EcmtError as exc:
            log.error("%s failed: %s", what, exc)

    def _error(
        self,
        exc: SecurityError,
        overrides: dict[int, ErrorCode] | None = None,
        context: str | None = None,
    ) -> EcmtError:
        return store_error(exc, lambda status: kc.describe(self.sec, status), overrides, context)


def _by_fingerprint(entries: Sequence[_Entry], fp: str) -> _Entry | None:
    return next((e for e in entries if e.fingerprint == fp), None)


def public_key_hash(certificate: x509.Certificate) -> bytes:
    """What the keychain files a key and its certificate under (kSecAttrApplicationLabel,
    kSecAttrPublicKeyHash): SHA-1 of the subjectPublicKey bits (RSA: the PKCS#1 key;
    EC: the uncompressed point)."""
    public = certificate.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        bits = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        bits = public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    else:
        raise EcmtError(ErrorCode.STORE_ERROR, "a key type the keychain adapter does not handle")
    digest = hashes.Hash(hashes.SHA1())  # noqa: S303 - the keychain's own naming scheme
    digest.update(bits)
    return digest.finalize()


def _data(value: object) -> bytes:
    return bytes(value) if value else b""  # type: ignore[call-overload]


def _label(keys: Sequence[Any], sec: Any) -> str | None:
    return next((t for k in keys if (t := _text(k.get(sec.kSecAttrLabel)))), None)


def _text(value: object) -> str | None:
    return str(value) if value else None


def _shared(target: _Entry, entries: Sequence[_Entry]) -> bool:
    """Another certificate uses the same key: keep the key."""
    return any(e is not target and e.key_hash == target.key_hash for e in entries)


def _check_removed(before: Sequence[_Entry], after: Sequence[_Entry], target: _Entry) -> None:
    remaining = {e.fingerprint for e in after}
    if target.fingerprint in remaining:
        raise EcmtError(ErrorCode.STORE_ERROR, "SecItemDelete succeeded; certificate still listed")
    lost = [e for e in before if e.fingerprint not in remaining and e is not target]
    if lost:
        raise EcmtError(ErrorCode.STORE_ERROR, f"removing one also removed {len(lost)} other(s)")


def _issuers(target: _Entry, entries: Sequence[_Entry]) -> tuple[x509.Certificate, ...]:
    """The issuing CAs among the keychain's certificates, nearest first."""
    cas = [e.certificate for e in entries]
    chain: builtins.list[x509.Certificate] = []
    current = target.certificate
    while current.issuer != current.subject and len(chain) < 8:
        issuer = next((c for c in cas if c not in chain and _issued_by(current, c)), None)
        if issuer is None:
            break
        chain.append(issuer)
        current = issuer
    return tuple(chain)


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    if cert.issuer != ca.subject or cert == ca:
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
