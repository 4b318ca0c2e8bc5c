"""Stores named in a user's words: "Chrome and Edge on this computer", not a path.

A pharmacist on the phone cannot tell "NSS database ~/.pki/nssdb" from anything else;
"the certificate store Chrome and Edge use" says where the certificate is and who
reads it. The technical description (with the path) stays in the details, the log and
"Copy support details". A list of stores (`nss,firefox`) reads "the certificate stores
of Chrome and Edge, and Firefox".
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
    the Windows machine store, the macOS System keychain, a system NSS database (any of
    them, in a list)."""
    return any(_machine_wide(part) for part in _parts(value))


def _machine_wide(text: str) -> bool:
    scheme, _, where = text.partition(":")
    return text in MACHINE_WIDE or (scheme == "nss" and where.startswith("/etc/"))


def _parts(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def plain_store_name(value: str) -> str:
    """A store value (`nss:DIR`, `files:DIR`, `windows:user`, …), or a comma-separated
    list of them, in plain words."""
    parts = _parts(value)
    if len(parts) > 1:
        return plain_store_list(parts)
    return _plain_one(parts[0] if parts else "")


def plain_store_list(values: list[str]) -> str:
    """Several stores: "the certificate stores of Chrome and Edge, and Firefox" when each
    is a browser's, else each store's own words joined."""
    if len(values) == 1:
        return _plain_one(values[0])
    browsers = [_browser(v) for v in values]
    if all(browsers):
        return "the certificate stores of " + _joined([b for b in browsers if b])
    return _joined([_plain_one(v) for v in values])


def _joined(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + ", and " + words[-1]


def _browser(value: str) -> str | None:
    """The browser that reads this store, for a list's words; None for other stores."""
    scheme, _, where = value.partition(":")
    if scheme == "nss" and _is_chrome(where):
        return "Chrome and Edge"
    if scheme == "firefox":
        return f"Firefox (profile {where})" if where else "Firefox"
    return None


def _is_chrome(where: str) -> bool:
    chrome = {Path(p).expanduser() for p in CHROME_NSSDB_PATHS}
    return not where or Path(where).expanduser() in chrome


def _plain_one(text: str) -> str:
    if text in _OS_STORES:
        return _OS_STORES[text]
    scheme, _, where = text.partition(":")
    if scheme == "nss":
        if _is_chrome(where):
            return "the certificate store Chrome and Edge use on this computer"
        return "a browser certificate database on this computer"
    if scheme == "firefox":
        return (
            f"Firefox (profile {where}) on this computer" if where else "Firefox on this computer"
        )
    if scheme == "files":
        return "this program's own certificate folder"
    return "the certificate store on this computer"
