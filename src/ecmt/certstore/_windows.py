r"""The Windows certificate store: CurrentUser\My or LocalMachine\My, keys in CNG.

Install imports an in-memory PKCS#12 (3DES/SHA-1, a one-time password) with
`PKCS12_PREFER_CNG_KSP` and the key set of the location (`CRYPT_USER_KEYSET` or
`CRYPT_MACHINE_KEYSET`; `CRYPT_EXPORTABLE` only when backups from the store are allowed;
never `PKCS12_NO_PERSIST_KEY`), takes our certificate from the temporary store (the chain
is in there too), adds it to My with `CERT_STORE_ADD_REPLACE_EXISTING`, names it, and
checks that its key landed in a CNG provider (`dwProvType == 0`): Chromium and Edge offer
only PKCS#1 signatures for a legacy CSP key, and TLS 1.3 needs RSA-PSS. Anything that
fails after the import deletes the key it made, so no key is left without a certificate.
LocalMachine needs write access, checked before the import for the same reason.

Remove deletes the key, then the certificate, then lists again (as the NSS adapter does).
`load_identity` exports with `PFXExportCertStoreEx`; a key imported without
`CRYPT_EXPORTABLE` cannot leave the store: BACKUP_NO_KEY.
"""

from __future__ import annotations

import builtins
import ctypes
import logging
from collections.abc import Callable, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from .. import pkcs12
from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import BackupFormat, ClientIdentity, PrivateKey, Profile, StoredCertificate
from ..domain.models import fingerprint as fingerprint_of
from . import _crypt32 as w
from . import _win_contexts as ctx
from . import _win_errors, _win_keys, _win_security
from ._win_contexts import Entry, KeyInfo

log = logging.getLogger(__name__)
MY, CA = "MY", "CA"
LOCATIONS = {
    "user": ("CurrentUser", w.CERT_SYSTEM_STORE_CURRENT_USER, w.CRYPT_USER_KEYSET),
    "machine": ("LocalMachine", w.CERT_SYSTEM_STORE_LOCAL_MACHINE, w.CRYPT_MACHINE_KEYSET),
}
_OVERRIDES = {"PFXImportCertStore": _win_errors.IMPORT, "PFXExportCertStoreEx": _win_errors.EXPORT}


class WindowsStore:
    """One system store's My, through crypt32 and ncrypt (`api` may be a test's fake)."""

    def __init__(
        self,
        location: str,
        *,
        api: w.Win32Api | None = None,
        exportable_keys: bool = True,
        key_readers: Sequence[str] = (),
    ) -> None:
        if location not in LOCATIONS:
            raise ValueError(f"location must be one of {sorted(LOCATIONS)}")
        self.location = location
        self.exportable_keys = exportable_keys
        self.key_readers = tuple(key_readers)
        self._api = api
        self._name, self._store_flag, self._keyset_flag = LOCATIONS[location]

    @property
    def description(self) -> str:
        return f"Windows certificate store {self._name}\\My"

    @property
    def api(self) -> w.Win32Api:
        if self._api is None:
            try:
                self._api = w.load()
            except OSError as exc:
                raise EcmtError(ErrorCode.STORE_UNAVAILABLE, str(exc)) from None
        return self._api

    @property
    def import_flags(self) -> int:
        flags = w.PKCS12_PREFER_CNG_KSP | self._keyset_flag
        return flags | (w.CRYPT_EXPORTABLE if self.exportable_keys else 0)

    def available(self) -> bool:
        try:
            with ctx.system_store(self.api, self._store_flag, MY, readonly=True):
                return True
        except (EcmtError, w.Win32Error):
            return False

    def needs_elevation(self) -> bool:
        """LocalMachine\\My without write access (tried, not guessed from group membership)."""
        if self.location != "machine":
            return False
        try:
            with ctx.system_store(self.api, self._store_flag, MY, readonly=False):
                return False
        except w.Win32Error as exc:
            if exc.is_(w.ERROR_ACCESS_DENIED):
                return True
            raise self._error(exc) from None

    def list(self, profile: Profile) -> builtins.list[StoredCertificate]:
        def ours(context: ctx.Context, _der: bytes) -> bool:
            epoc = ctx.subject_serial_number(self.api, context)  # cheap: no parsing
            return bool(epoc) and (profile.epoc is None or epoc == profile.epoc)

        found = [
            (entry, cert)
            for entry in self._entries(ours)
            if (cert := _parsed(entry)) is not None and profile.matches(cert)
        ]
        return [self._stored(entry, cert) for entry, cert in found]

    def find(self, fingerprint: str) -> StoredCertificate | None:
        fp = fingerprint.lower()
        for entry in self._entries(lambda _context, der: ctx.sha256(der) == fp):
            cert = _parsed(entry)
            if cert is not None:
                return self._stored(entry, cert)
        return None

    def install(
        self,
        key: PrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
        friendly_name: str,
    ) -> StoredCertificate:
        readers = self._reader_sids()  # a wrong account name stops before anything changes
        if self.needs_elevation():
            raise EcmtError(
                ErrorCode.STORE_ELEVATION_REQUIRED, f"{self.description}: no write access"
            )
        secret = pkcs12.one_time_password()
        data = pkcs12.build(key, certificate, chain, friendly_name, secret, BackupFormat.LEGACY)
        try:
            with (
                ctx.system_store(self.api, self._store_flag, MY, readonly=False) as my,
                ctx.imported_pfx(self.api, data, secret.decode(), self.import_flags) as temp,
            ):
                try:
                    entry = self._add(temp, my, fingerprint_of(certificate), friendly_name, readers)
                except BaseException:
                    _quietly(lambda: self._drop_imported_keys(temp), "deleting the new key")
                    raise
                self._add_issuers(temp, chain)
        except w.Win32Error as exc:
            raise self._error(exc) from None
        return self._stored(entry, certificate)

    def remove(self, fingerprint: str) -> None:
        fp = fingerprint.lower()
        try:
            with ctx.system_store(self.api, self._store_flag, MY, readonly=False) as my:
                before = ctx.entries(self.api, my)
                target = next((e for e in before if e.fingerprint == fp), None)
                if target is None:
                    raise EcmtError(ErrorCode.STORE_NOT_FOUND, f"no certificate {fp[:16]} in My")
                if target.key is not None and not _shared(target, before):
                    _win_keys.delete_key(self.api, target.key)
                with ctx.held(self.api, my, fp) as context:
                    if context:
                        ctx.delete(self.api, context)
                after = ctx.entries(self.api, my)
            key_left = target.key is not None and _win_keys.key_exists(self.api, target.key)
        except w.Win32Error as exc:
            raise self._error(exc) from None
        _check_removed(before, after, target)
        if key_left and not _shared(target, after):
            log.warning("the key of %s is still in %s", fp[:16], target.key)

    def load_identity(self, fingerprint: str) -> ClientIdentity:
        """Exported into memory under a one-time password; the chain from the CA store."""
        fp = fingerprint.lower()
        secret = pkcs12.one_time_password()
        try:
            with (
                ctx.system_store(self.api, self._store_flag, MY, readonly=True) as my,
                ctx.held(self.api, my, fp) as context,
            ):
                if not context:
                    raise EcmtError(ErrorCode.STORE_NOT_FOUND, f"no certificate {fp[:16]}")
                if ctx.key_info(self.api, context) is None:
                    raise EcmtError(ErrorCode.BACKUP_NO_KEY, "no private key in the store")
                data = self._export(context, secret.decode())
            opened = pkcs12.open_(data, secret)
            chain = self._issuers(opened.certificate)
        except w.Win32Error as exc:
            raise self._error(exc, "exporting the key") from None
        if fingerprint_of(opened.certificate) != fp:
            raise EcmtError(ErrorCode.STORE_ERROR, "PFXExportCertStoreEx gave another certificate")
        return ClientIdentity(opened.certificate, opened.key, chain)

    def key_readers_of(self, fingerprint: str) -> builtins.list[str] | None:
        """Accounts allowed to read the certificate's CNG key (for `ecmt status`)."""
        fp = fingerprint.lower()
        try:
            entries = self._entries(lambda _context, der: ctx.sha256(der) == fp)
            key = entries[0].key if entries else None
            if key is None or not key.is_cng:
                return None
            with _win_keys.opened_key(self.api, key) as handle:
                descriptor = _win_keys.security_descriptor(self.api, handle)
            sids = _win_security.readers(descriptor)
            return [
                _win_keys.account_name(self.api, s) or _win_security.sid_to_text(s) for s in sids
            ]
        except (w.Win32Error, EcmtError, _win_security.SecurityFormatError) as exc:
            log.info("cannot read who may use the key of %s: %s", fp[:16], exc)
            return None

    # --- install steps -------------------------------------------------------------------

    def _add(
        self, temp: int, my: int, fp: str, friendly_name: str, readers: builtins.list[bytes]
    ) -> Entry:
        """Our certificate from the import into My, named and checked; on failure it is
        removed again (the caller deletes the imported key)."""
        api = self.api
        with ctx.held(api, temp, fp) as imported:
            if not imported or ctx.key_info(api, imported) is None:
                raise EcmtError(
                    ErrorCode.STORE_ERROR, "the PKCS#12 import gave no certificate with a key"
                )
            previous = next((e for e in ctx.entries(api, my) if e.fingerprint == fp), None)
            added = w.PCCERT_CONTEXT()
            api.CertAddCertificateContextToStore(
                my, imported, w.CERT_STORE_ADD_REPLACE_EXISTING, added
            )
            try:
                entry = self._finish(added, friendly_name, readers)
            except BaseException:
                _quietly(lambda: ctx.delete(api, added), "removing the new certificate")
                raise
            finally:
                api.CertFreeCertificateContext(added)
        old_key = previous.key if previous else None
        if old_key is not None and entry.key is not None and not old_key.same_key(entry.key):
            _quietly(lambda: _win_keys.delete_key(api, old_key), "deleting the replaced key")
        return entry

    def _finish(
        self, added: ctx.Context, friendly_name: str, readers: builtins.list[bytes]
    ) -> Entry:
        ctx.set_friendly_name(self.api, added, friendly_name)
        entry = ctx.read_entry(self.api, added)
        if entry.key is None or not entry.key.is_cng:
            where = f"{entry.key.provider} (type {entry.key.prov_type})" if entry.key else "none"
            raise EcmtError(ErrorCode.STORE_LEGACY_KEY, f"key provider: {where}")
        if readers:
            self._grant_read(entry.key, readers)
        return entry

    def _grant_read(self, key: KeyInfo, sids: builtins.list[bytes]) -> None:
        with _win_keys.opened_key(self.api, key) as handle:
            current = _win_keys.security_descriptor(self.api, handle)
            updated = _win_security.grant_read(current, sids)
            if updated is not None:
                _win_keys.set_security_descriptor(self.api, handle, updated)

    def _add_issuers(self, temp: int, chain: Sequence[x509.Certificate]) -> None:
        """Issuing CAs into this location's CA store when missing (never Root: trust is IT's)."""
        wanted = {
            ctx.sha256(c.public_bytes(serialization.Encoding.DER))
            for c in chain
            if c.issuer != c.subject
        }
        if not wanted:
            return
        try:
            with ctx.system_store(self.api, self._store_flag, CA, readonly=False) as ca:
                for fp in sorted(wanted):
                    with ctx.held(self.api, temp, fp) as context:
                        if context:
                            self._add_new(ca, context)
        except w.Win32Error as exc:
            log.warning("could not add the issuing CA to the CA store: %s", self._error(exc))

    def _add_new(self, store: int, context: ctx.Context) -> None:
        try:
            self.api.CertAddCertificateContextToStore(store, context, w.CERT_STORE_ADD_NEW, None)
        except w.Win32Error as exc:
            if not exc.is_(w.CRYPT_E_EXISTS):
                raise

    def _drop_imported_keys(self, temp: int) -> None:
        """PFXImportCertStore persisted these keys: none may outlive a failed install."""
        for entry in ctx.entries(self.api, temp):
            if entry.key is not None:
                _win_keys.delete_key(self.api, entry.key)

    def _reader_sids(self) -> builtins.list[bytes]:
        if self.location != "machine" or not self.key_readers:
            return []
        sids = []
        for name in self.key_readers:
            sid = _win_security.sid_from_text(name)
            if sid is None:
                try:
                    sid = _win_keys.account_sid(self.api, name)
                except w.Win32Error as exc:
                    if exc.is_(w.ERROR_NONE_MAPPED):
                        raise EcmtError(
                            ErrorCode.CONFIG_INVALID, f"key_readers: no account named {name!r}"
                        ) from None
                    raise self._error(exc, f"looking up {name!r}") from None
            sids.append(sid)
        return sids

    # --- reading -------------------------------------------------------------------------

    def _export(self, context: ctx.Context, password: str) -> bytes:
        api = self.api
        flags = (
            w.EXPORT_PRIVATE_KEYS
            | w.REPORT_NO_PRIVATE_KEY
            | w.REPORT_NOT_ABLE_TO_EXPORT_PRIVATE_KEY
        )
        with ctx.memory_store(api) as memory:
            api.CertAddCertificateContextToStore(memory, context, w.CERT_STORE_ADD_ALWAYS, None)
            blob = w.CRYPT_DATA_BLOB(0, None)
            api.PFXExportCertStoreEx(memory, blob, password, None, flags)  # the size
            buffer = ctypes.create_string_buffer(blob.cbData)
            blob.pbData = ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ubyte))
            api.PFXExportCertStoreEx(memory, blob, password, None, flags)
            data = buffer.raw[: blob.cbData]
            ctypes.memset(buffer, 0, len(buffer))
        return data

    def _issuers(self, certificate: x509.Certificate) -> tuple[x509.Certificate, ...]:
        """The issuing CAs from this location's CA store, nearest first."""
        with ctx.system_store(self.api, self._store_flag, CA, readonly=True) as ca:
            cas = [c for e in ctx.entries(self.api, ca) if (c := _parsed(e)) is not None]
        chain: builtins.list[x509.Certificate] = []
        current = certificate
        while current.issuer != current.subject and len(chain) < 8:
            issuer = next((c for c in cas if _issued_by(current, c)), None)
            if issuer is None or issuer in chain:
                break
            chain.append(issuer)
            current = issuer
        return tuple(chain)

    def _entries(self, want: Callable[[ctx.Context, bytes], bool]) -> builtins.list[Entry]:
        try:
            with ctx.system_store(self.api, self._store_flag, MY, readonly=True) as my:
                return ctx.entries(self.api, my, want)
        except w.Win32Error as exc:
            raise self._error(exc) from None

    def _stored(self, entry: Entry, certificate: x509.Certificate) -> StoredCertificate:
        return StoredCertificate(
            certificate=certificate,
            has_private_key=entry.key is not None,
            location=self.description,
            label=entry.friendly_name,
        )

    def _error(self, exc: w.Win32Error, context: str | None = None) -> EcmtError:
        return _win_errors.store_error(
            exc, self.api.describe, _OVERRIDES.get(exc.function), context
        )


def _parsed(entry: Entry) -> x509.Certificate | None:
    try:
        return entry.certificate()
    except ValueError as exc:
        log.warning("skipping an unreadable certificate %s: %s", entry.fingerprint[:16], exc)
        return None


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    if cert.issuer != ca.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _shared(target: Entry, entries: Sequence[Entry]) -> bool:
    """Another certificate points at the same key container: keep the key."""
    return any(
        e is not target
        and e.key is not None
        and target.key is not None
        and e.key.same_key(target.key)
        for e in entries
    )


def _check_removed(before: Sequence[Entry], after: Sequence[Entry], target: Entry) -> None:
    remaining = {e.fingerprint for e in after}
    if target.fingerprint in remaining:
        raise EcmtError(ErrorCode.STORE_ERROR, "CertDeleteCertificateFromStore: still listed")
    lost = [e for e in before if e.fingerprint not in remaining and e is not target]
    if lost:
        raise EcmtError(ErrorCode.STORE_ERROR, f"removing one also removed {len(lost)} other(s)")


def _quietly(action: Callable[[], object], what: str) -> None:
    """A clean-up step after a failure: log its own failure, keep the first error."""
    try:
        action()
    except (w.Win32Error, EcmtError) as exc:
        log.error("%s failed: %s", what, exc)
