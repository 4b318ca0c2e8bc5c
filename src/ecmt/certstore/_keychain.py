"""The Security framework calls the keychain adapter makes, in PyObjC's shape: an out
parameter is passed as None and comes back in a tuple after the OSStatus. A status other
than errSecSuccess raises `SecurityError`; errSecItemNotFound from a search means "none".

`sec` is PyObjC's `Security` module on macOS, or a test's stand-in with the same
functions and constants (tests/fakes_macos.py). Nothing here starts a process: the
PKCS#12 password goes to SecPKCS12Import in memory, never to `security import -P`.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from ._mac_errors import SecurityError, errSecItemNotFound, errSecSuccess

KSEC_FORMAT_PKCS12 = 12  # kSecFormatPKCS12
UNLOCKED, READABLE, WRITABLE = 1, 2, 4  # SecKeychainGetStatus bits


def load() -> Any:
    """PyObjC's Security module (pyobjc-framework-Security, macOS only)."""
    return importlib.import_module("Security")


def check(function: str, status: int) -> None:
    if status != errSecSuccess:
        raise SecurityError(function, int(status))


def open_keychain(sec: Any, path: Path) -> Any:
    status, keychain = sec.SecKeychainOpen(os.fsencode(path), None)
    check("SecKeychainOpen", status)
    return keychain


def keychain_status(sec: Any, keychain: Any) -> int:
    """UNLOCKED | READABLE | WRITABLE bits; errSecNoSuchKeychain when the file is missing."""
    status, bits = sec.SecKeychainGetStatus(keychain, None)
    check("SecKeychainGetStatus", status)
    return int(bits)


def search(sec: Any, keychain: Any, item_class: Any, **match: Any) -> list[Any]:
    """Every item of `item_class` in this keychain (only), each a mapping of its
    attributes with its reference under kSecValueRef."""
    query = {
        sec.kSecClass: item_class,
        sec.kSecMatchSearchList: [keychain],
        sec.kSecMatchLimit: sec.kSecMatchLimitAll,
        sec.kSecReturnRef: True,
        sec.kSecReturnAttributes: True,
        **{getattr(sec, name): value for name, value in match.items()},
    }
    status, found = sec.SecItemCopyMatching(query, None)
    if status == errSecItemNotFound:
        return []
    check("SecItemCopyMatching", status)
    return list(found or [])


def set_label(sec: Any, item_class: Any, ref: Any, label: str) -> None:
    status = sec.SecItemUpdate(
        {sec.kSecClass: item_class, sec.kSecValueRef: ref}, {sec.kSecAttrLabel: label}
    )
    check("SecItemUpdate", status)


def delete(sec: Any, item_class: Any, ref: Any) -> None:
    check("SecItemDelete", sec.SecItemDelete({sec.kSecClass: item_class, sec.kSecValueRef: ref}))


def certificate_der(sec: Any, ref: Any) -> bytes:
    return bytes(sec.SecCertificateCopyData(ref))


def import_pkcs12(sec: Any, keychain: Any, data: bytes, password: str, access: Any) -> list[Any]:
    """SecPKCS12Import into `keychain`; the items it reports (identity, chain, label)."""
    options = {
        sec.kSecImportExportPassphrase: password,
        sec.kSecImportExportKeychain: keychain,
    }
    if access is not None:
        options[sec.kSecImportExportAccess] = access
    status, items = sec.SecPKCS12Import(data, options, None)
    check("SecPKCS12Import", status)
    return list(items or [])


def export_pkcs12(sec: Any, keychain: Any, certificate: Any, password: str) -> bytes:
    """The identity (certificate + key) as PKCS#12 under `password`, in memory."""
    status, identity = sec.SecIdentityCreateWithCertificate(keychain, certificate, None)
    check("SecIdentityCreateWithCertificate", status)
    params = sec.SecItemImportExportKeyParameters(version=0, flags=0, passphrase=password)
    status, data = sec.SecItemExport(identity, KSEC_FORMAT_PKCS12, 0, params, None)
    check("SecItemExport", status)
    return bytes(data)


def trusted_access(sec: Any, label: str, apps: list[str]) -> Any:
    """An access list for a new key: this program, and each app in `apps` that is
    installed, may use it without asking."""
    trusted = []
    for path in [None, *apps]:
        if path is not None and not Path(path).exists():
            continue
        status, app = sec.SecTrustedApplicationCreateFromPath(
            None if path is None else os.fsencode(path), None
        )
        check("SecTrustedApplicationCreateFromPath", status)
        trusted.append(app)
    status, access = sec.SecAccessCreate(label, trusted, None)
    check("SecAccessCreate", status)
    return access


def describe(sec: Any, status: int) -> str | None:
    words = sec.SecCopyErrorMessageString(status, None)
    return str(words) if words is not None else None
