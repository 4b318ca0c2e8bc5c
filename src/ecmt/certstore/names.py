"""Stores named in a user's words: "Chrome and Edge on this computer", not a path.

A pharmacist on the phone cannot tell "NSS database ~/.pki/nssdb" from anything else;
"the certificate store Chrome and Edge use" says where the certificate is and who
reads it. The technical description (with the path) stays in the details, the log and
"Copy support details".
"""

from __future__ import annotations

from pathlib import Path

CHROME_NSSDB_PATHS = ("~/.pki/nssdb", "~/.local/share/pki/nssdb")
_OS_STORES = {
    "windows:machine": "this computer's certificate store",
    "windows:user": "your Windows certificate store",
    "macos:login": "your login keychain",
    "macos:system": "this Mac's System keychain",
}


MACHINE_WIDE = ("windows:machine", "macos:system")


def is_machine_wide(value: str) -> bool:
    """A store for the whole computer, which only an administrator (or root) may change:
    the Windows machine store, the macOS System keychain, a system NSS database."""
    text = value.strip()
    scheme, _, where = text.partition(":")
    return text in MACHINE_WIDE or (scheme == "nss" and where.startswith("/etc/"))


def plain_store_name(value: str) -> str:
    """A store value (`nss:DIR`, `files:DIR`, `windows:user`, …) in plain words."""
    text = value.strip()
    if text in _OS_STORES:
        return _OS_STORES[text]
    scheme, _, where = text.partition(":")
    if scheme == "nss":
        chrome = {Path(p).expanduser() for p in CHROME_NSSDB_PATHS}
        if not where or Path(where).expanduser() in chrome:
            return "the certificate store Chrome and Edge use on this computer"
        return "a browser certificate database on this computer"
    if scheme == "firefox":
        return "Firefox on this computer"
    if scheme == "files":
        return "this program's own certificate folder"
    return "the certificate store on this computer"
