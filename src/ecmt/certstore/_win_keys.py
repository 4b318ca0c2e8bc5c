"""Private keys behind certificates: delete them, read and extend who may use them, and
turn account names into SIDs and back.

A certificate store entry only points at its key (CERT_KEY_PROV_INFO); removing the entry
leaves the key in its provider unless it is deleted here. CNG keys go through NCrypt; a
legacy CryptoAPI key is deleted with `CryptAcquireContext(CRYPT_DELETEKEYSET)`.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from . import _crypt32 as w
from ._win_contexts import KeyInfo

log = logging.getLogger(__name__)
_GONE = (w.NTE_BAD_KEYSET, w.NTE_NOT_FOUND, w.NTE_KEYSET_NOT_DEF)


def _legacy_spec(info: KeyInfo) -> int:
    return info.key_spec if info.key_spec in {w.AT_KEYEXCHANGE, w.AT_SIGNATURE} else 0


def _ncrypt_flags(info: KeyInfo) -> int:
    return w.NCRYPT_SILENT_FLAG | (w.NCRYPT_MACHINE_KEY_FLAG if info.machine else 0)


@contextmanager
def _provider(api: w.Win32Api, info: KeyInfo) -> Iterator[int]:
    handle = w.ULONG_PTR(0)
    api.NCryptOpenStorageProvider(handle, info.provider, 0)
    try:
        yield handle.value
    finally:
        api.NCryptFreeObject(handle.value)


def _open_key(api: w.Win32Api, provider: int, info: KeyInfo) -> int:
    handle = w.ULONG_PTR(0)
    api.NCryptOpenKey(provider, handle, info.container, _legacy_spec(info), _ncrypt_flags(info))
    return handle.value


@contextmanager
def opened_key(api: w.Win32Api, info: KeyInfo) -> Iterator[int]:
    """An NCrypt key handle, freed after use."""
    with _provider(api, info) as provider:
        key = _open_key(api, provider, info)
        try:
            yield key
        finally:
            api.NCryptFreeObject(key)


def delete_key(api: w.Win32Api, info: KeyInfo) -> bool:
    """Delete the key; False when it was already gone."""
    try:
        if info.is_cng:
            with _provider(api, info) as provider:
                key = _open_key(api, provider, info)
                try:
                    api.NCryptDeleteKey(key, w.NCRYPT_SILENT_FLAG)  # frees `key` when it works
                except BaseException:
                    api.NCryptFreeObject(key)
                    raise
        else:
            flags = w.CRYPT_DELETEKEYSET | w.CRYPT_SILENT
            flags |= w.CRYPT_MACHINE_KEYSET if info.machine else 0
            unused = w.ULONG_PTR(0)  # CRYPT_DELETEKEYSET leaves no handle to release
            api.CryptAcquireContextW(unused, info.container, info.provider, info.prov_type, flags)
    except w.Win32Error as exc:
        if exc.is_(*_GONE):
            return False
        raise
    return True


def key_exists(api: w.Win32Api, info: KeyInfo) -> bool | None:
    """Whether a CNG key is still there (None: a legacy key, not checked)."""
    if not info.is_cng:
        return None
    try:
        with opened_key(api, info):
            return True
    except w.Win32Error as exc:
        if exc.is_(*_GONE):
            return False
        raise


def security_descriptor(api: w.Win32Api, key: int) -> bytes:
    """The key's DACL as a self-relative security descriptor."""
    name, dacl = w.NCRYPT_SECURITY_DESCR_PROPERTY, w.DACL_SECURITY_INFORMATION
    size = w.DWORD(0)
    api.NCryptGetProperty(key, name, None, 0, size, dacl)
    buffer = ctypes.create_string_buffer(size.value)
    api.NCryptGetProperty(key, name, buffer, size.value, size, dacl)
    return buffer.raw[: size.value]


def set_security_descriptor(api: w.Win32Api, key: int, descriptor: bytes) -> None:
    buffer = ctypes.create_string_buffer(descriptor, len(descriptor))
    api.NCryptSetProperty(
        key, w.NCRYPT_SECURITY_DESCR_PROPERTY, buffer, len(descriptor), w.DACL_SECURITY_INFORMATION
    )


def account_sid(api: w.Win32Api, name: str) -> bytes:
    """LookupAccountNameW: "NT AUTHORITY\\NETWORK SERVICE", "PRACTICE\\svc-pmr", "svc-pmr"."""
    sid_size, domain_size, use = w.DWORD(0), w.DWORD(0), w.DWORD(0)
    try:
        api.LookupAccountNameW(None, name, None, sid_size, None, domain_size, use)
    except w.Win32Error as exc:
        if not exc.is_(w.ERROR_INSUFFICIENT_BUFFER):
            raise
    sid = ctypes.create_string_buffer(sid_size.value)
    domain = ctypes.create_string_buffer(domain_size.value * 2)
    api.LookupAccountNameW(None, name, sid, sid_size, domain, domain_size, use)
    return sid.raw[: sid_size.value]


def account_name(api: w.Win32Api, sid: bytes) -> str | None:
    """DOMAIN\\name for a SID, or None when no account has it (a deleted account)."""
    buffer = ctypes.create_string_buffer(sid, len(sid))
    name_size, domain_size, use = w.DWORD(0), w.DWORD(0), w.DWORD(0)
    try:
        api.LookupAccountSidW(None, buffer, None, name_size, None, domain_size, use)
    except w.Win32Error as exc:
        if exc.is_(w.ERROR_NONE_MAPPED):
            return None
        if not exc.is_(w.ERROR_INSUFFICIENT_BUFFER):
            raise
    name = ctypes.create_string_buffer(name_size.value * 2)
    domain = ctypes.create_string_buffer(domain_size.value * 2)
    api.LookupAccountSidW(None, buffer, name, name_size, domain, domain_size, use)
    account = name.raw[: name_size.value * 2].decode("utf-16-le", "replace")
    where = domain.raw[: domain_size.value * 2].decode("utf-16-le", "replace")
    return f"{where}\\{account}" if where else account
