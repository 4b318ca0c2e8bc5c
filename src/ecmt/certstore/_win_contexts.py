"""Store handles and certificate contexts, with CryptoAPI's ownership rules kept in one place.

- Every store handle is closed (`CertCloseStore`) when its `with` block ends.
- `CertEnumCertificatesInStore` frees the context passed back to it, so a context from
  `contexts()` is valid for one step only; `held()` keeps a duplicate and frees it after.
- `CertDeleteCertificateFromStore` frees the context it is given, even on failure, so it
  is always given a fresh duplicate.
- The PKCS#12 bytes handed to `PFXImportCertStore` are zeroed as soon as it returns.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from . import _crypt32 as w

log = logging.getLogger(__name__)
Context = Any  # a PCCERT_CONTEXT


@dataclass(frozen=True)
class KeyInfo:
    """CERT_KEY_PROV_INFO: where a certificate's private key lives."""

    container: str
    provider: str
    prov_type: int  # 0: CNG key storage provider; else a legacy CryptoAPI CSP type
    flags: int
    key_spec: int

    @property
    def is_cng(self) -> bool:
        return self.prov_type == 0

    @property
    def machine(self) -> bool:
        return bool(self.flags & w.CRYPT_MACHINE_KEYSET)

    def same_key(self, other: KeyInfo) -> bool:
        return (self.container, self.provider, self.machine) == (
            other.container,
            other.provider,
            other.machine,
        )


@dataclass(frozen=True)
class Entry:
    """One certificate of a store, read out while its context was held."""

    der: bytes
    fingerprint: str
    key: KeyInfo | None
    friendly_name: str | None

    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.der)


@contextmanager
def system_store(api: w.Win32Api, location: int, name: str, readonly: bool) -> Iterator[int]:
    """`CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, location, name)`, closed after use."""
    flags = location | (w.CERT_STORE_READONLY_FLAG if readonly else 0)
    handle = api.CertOpenStore(w.CERT_STORE_PROV_SYSTEM_W, 0, 0, flags, name)
    try:
        yield handle
    finally:
        api.CertCloseStore(handle, 0)


@contextmanager
def memory_store(api: w.Win32Api) -> Iterator[int]:
    handle = api.CertOpenStore(w.CERT_STORE_PROV_MEMORY, 0, 0, 0, None)
    try:
        yield handle
    finally:
        api.CertCloseStore(handle, 0)


@contextmanager
def imported_pfx(api: w.Win32Api, data: bytes, password: str, flags: int) -> Iterator[int]:
    """The temporary store PFXImportCertStore makes. Its keys are persisted already: the
    caller deletes them if the certificate does not end up in a store."""
    buffer = ctypes.create_string_buffer(data, len(data))
    blob = w.CRYPT_DATA_BLOB(len(data), ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ubyte)))
    try:
        handle = api.PFXImportCertStore(blob, password, flags)
    finally:
        ctypes.memset(buffer, 0, len(data))
    try:
        yield handle
    finally:
        api.CertCloseStore(handle, 0)


def contexts(api: w.Win32Api, store: int) -> Generator[Context, None, None]:
    """Each certificate of `store`, valid until the next one is asked for. Use with
    `closing()`: stopping early frees the current context."""
    previous = w.PCCERT_CONTEXT()
    while True:
        current = api.CertEnumCertificatesInStore(store, previous)  # frees `previous`
        if not current:
            return
        try:
            yield current
        except BaseException:
            api.CertFreeCertificateContext(current)
            raise
        previous = current


def encoded(context: Context) -> bytes:
    return ctypes.string_at(context.contents.pbCertEncoded, context.contents.cbCertEncoded)


def sha256(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def entries(
    api: w.Win32Api, store: int, want: Callable[[Context, bytes], bool] | None = None
) -> list[Entry]:
    """Every certificate (or those `want` picks, asked before any property is read)."""
    found: list[Entry] = []
    with closing(contexts(api, store)) as each:
        for context in each:
            der = encoded(context)
            if want is None or want(context, der):
                found.append(read_entry(api, context, der))
    return found


def read_entry(api: w.Win32Api, context: Context, der: bytes | None = None) -> Entry:
    der = der if der is not None else encoded(context)
    return Entry(der, sha256(der), key_info(api, context), friendly_name(api, context))


@contextmanager
def held(api: w.Win32Api, store: int, fingerprint: str) -> Iterator[Context | None]:
    """A duplicate of the context with this SHA-256 (or None), freed when the block ends."""
    found = None
    with closing(contexts(api, store)) as each:
        for context in each:
            if sha256(encoded(context)) == fingerprint:
                found = api.CertDuplicateCertificateContext(context)
                break
    try:
        yield found
    finally:
        if found:
            api.CertFreeCertificateContext(found)


def delete(api: w.Win32Api, context: Context) -> None:
    """Remove the certificate from its store; `context` stays the caller's to free."""
    api.CertDeleteCertificateFromStore(api.CertDuplicateCertificateContext(context))


def get_property(api: w.Win32Api, context: Context, prop_id: int) -> bytes | None:
    """A property's bytes, or None when the certificate does not have it."""
    buffer = _property_buffer(api, context, prop_id)
    return None if buffer is None else buffer.raw


def _property_buffer(api: w.Win32Api, context: Context, prop_id: int) -> Any:
    size = w.DWORD(0)
    try:
        api.CertGetCertificateContextProperty(context, prop_id, None, size)
        buffer = ctypes.create_string_buffer(size.value)
        api.CertGetCertificateContextProperty(context, prop_id, buffer, size)
    except w.Win32Error as exc:
        if exc.is_(w.CRYPT_E_NOT_FOUND):
            return None
        raise
    return buffer


def key_info(api: w.Win32Api, context: Context) -> KeyInfo | None:
    """CERT_KEY_PROV_INFO_PROP_ID, read while its buffer (which its strings point into) lives."""
    buffer = _property_buffer(api, context, w.CERT_KEY_PROV_INFO_PROP_ID)
    if buffer is None:
        return None
    if len(buffer) < ctypes.sizeof(w.CRYPT_KEY_PROV_INFO):
        raise w.Win32Error(w.CRYPT_E_BAD_ENCODE, "CertGetCertificateContextProperty")
    info = w.CRYPT_KEY_PROV_INFO.from_buffer(buffer)
    return KeyInfo(
        container=w.read_wide(info.pwszContainerName),
        provider=w.read_wide(info.pwszProvName),
        prov_type=info.dwProvType,
        flags=info.dwFlags,
        key_spec=info.dwKeySpec,
    )


def friendly_name(api: w.Win32Api, context: Context) -> str | None:
    data = get_property(api, context, w.CERT_FRIENDLY_NAME_PROP_ID)
    if not data:
        return None
    return data.decode("utf-16-le", "replace").split("\0", 1)[0] or None


def set_friendly_name(api: w.Win32Api, context: Context, name: str) -> None:
    data = w.wide(name)
    buffer = ctypes.create_string_buffer(data, len(data))
    blob = w.CRYPT_DATA_BLOB(len(data), ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ubyte)))
    api.CertSetCertificateContextProperty(
        context, w.CERT_FRIENDLY_NAME_PROP_ID, 0, ctypes.pointer(blob)
    )


def subject_serial_number(api: w.Win32Api, context: Context) -> str:
    """The subject's serialNumber attribute (2.5.4.5), the EPOC number; "" when absent."""
    kind, oid = w.CERT_NAME_ATTR_TYPE, w.OID_SUBJECT_SERIAL_NUMBER
    chars = api.CertGetNameStringW(context, kind, 0, oid, None, 0)
    if chars <= 1:
        return ""
    buffer = ctypes.create_string_buffer(chars * 2)
    written = api.CertGetNameStringW(context, kind, 0, oid, buffer, chars)
    return buffer.raw[: max(written - 1, 0) * 2].decode("utf-16-le", "replace")
