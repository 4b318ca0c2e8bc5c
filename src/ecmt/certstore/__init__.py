"""Certificate stores behind one port; `open_store` picks an adapter from a store value.

Store values (the `store` setting): `nss` (the NSS database Chromium, Chrome and Edge read
in this home, see `_nss_locations`) or `nss:DIR`; `firefox` (every Firefox profile) or
`firefox:PROFILE`; `files` or `files:DIR` (a folder of PKCS#12 files, default
DATA_DIR/certificates); `windows:machine` or `windows:user` (LocalMachine\\My or
CurrentUser\\My); `macos:login` or `macos:system` (a keychain). Several values, comma-
separated (a list in TOML), make one store that installs into each as one transaction.
Left unset: LocalMachine\\My on Windows, where the practice's clinical systems look; the
login keychain on macOS; the NSS database on Linux when certutil is installed; else the
file store.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain.errors import EcmtError, ErrorCode

if TYPE_CHECKING:
    from ..secrets import SecretStore
    from ._files import FileStore
    from ._macos import MacosStore
    from ._nss import NssStore
    from ._several import Place, SeveralStores, places_of
    from ._windows import WindowsStore
    from .port import CertStore

WAIT_SECONDS = 10.0  # for Firefox to close (the `firefox_wait_seconds` default)
# Each adapter is imported when a store of its kind is opened: `ecmt status` on Linux
# never loads the Windows or macOS modules, and no command loads them all.
_LAZY = {
    "FileStore": "._files",
    "MacosStore": "._macos",
    "NssStore": "._nss",
    "Place": "._several",
    "SeveralStores": "._several",
    "places_of": "._several",
    "WindowsStore": "._windows",
    "CertStore": ".port",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CertStore",
    "FileStore",
    "MacosStore",
    "NssStore",
    "Place",
    "SeveralStores",
    "WindowsStore",
    "default_store_value",
    "open_store",
    "places_of",
    "store_values",
]

_OS_STORES = {"windows": ("machine", "user"), "macos": ("login", "system")}
_NATIVE = {"windows": "win32", "macos": "darwin"}


def default_store_value(
    platform: str = sys.platform, which: Callable[[str], str | None] = shutil.which
) -> str:
    """The store used when none is configured: LocalMachine\\My on Windows, the login
    keychain on macOS, Chromium's NSS database where we can drive it."""
    if platform == "win32":
        return "windows:machine"
    if platform == "darwin":
        return "macos:login"
    if platform.startswith("linux") and which("certutil") and which("pk12util"):
        return "nss"
    return "files"


def store_values(value: str | None, platform: str = sys.platform) -> list[str]:
    """The single store values in a setting (`nss,firefox` or one value); the default
    when unset. CONFIG_INVALID for an empty item or the same value twice."""
    text = value if value is not None and value.strip() else default_store_value(platform)
    values = [v.strip() for v in text.split(",")]
    if any(not v for v in values):
        raise EcmtError(ErrorCode.CONFIG_INVALID, f"store {text!r}: an empty item in the list")
    if len(set(values)) != len(values):
        raise EcmtError(ErrorCode.CONFIG_INVALID, f"store {text!r} names a store twice")
    return values


def open_store(
    value: str | None,
    data_dir: Path,
    secrets: SecretStore,
    *,
    exportable_keys: bool = True,
    key_readers: Sequence[str] = (),
    platform: str = sys.platform,
    home: Path | None = None,
    firefox_wait_seconds: float = WAIT_SECONDS,
) -> CertStore:
    """The adapter for a store value, or one store over several. CONFIG_INVALID for a
    value we cannot read, STORE_UNAVAILABLE for a store this platform lacks.

    `exportable_keys` and `key_readers` apply to the Windows store (see docs/windows.md)."""
    values = store_values(value, platform)
    home = home if home is not None else Path.home()

    def one(text: str) -> CertStore:
        return _open_one(
            text, data_dir, secrets, exportable_keys, key_readers, platform, home,
            firefox_wait_seconds,
        )  # fmt: skip

    if len(values) == 1:
        return one(values[0])
    from ._several import Place, SeveralStores

    parts = [Place(v, one(v)) for v in values]
    described = [p.store.description for p in parts]
    if len(set(described)) != len(described):
        raise EcmtError(ErrorCode.CONFIG_INVALID, f"store {value!r} names one store twice")
    return SeveralStores(parts, ",".join(values))


def _open_one(
    text: str,
    data_dir: Path,
    secrets: SecretStore,
    exportable_keys: bool,
    key_readers: Sequence[str],
    platform: str,
    home: Path,
    firefox_wait_seconds: float,
) -> CertStore:
    scheme, _, where = text.partition(":")
    if scheme == "nss":
        from ._nss import NssStore
        from ._nss_locations import chromium_nssdb

        return NssStore(_expand(where, home) if where else chromium_nssdb(home))
    if scheme == "firefox":
        if not platform.startswith("linux"):
            raise EcmtError(ErrorCode.STORE_UNAVAILABLE, f"store {text!r}: Linux only")
        from ._firefox import open_firefox

        return open_firefox(where, home, firefox_wait_seconds)
    if scheme == "files":
        from ._files import FileStore

        folder = _expand(where, home) if where else data_dir / "certificates"
        return FileStore(folder, secrets)
    if scheme in _OS_STORES:
        if where not in _OS_STORES[scheme]:
            choices = " or ".join(f"{scheme}:{name}" for name in _OS_STORES[scheme])
            raise EcmtError(ErrorCode.CONFIG_INVALID, f"store {text!r}: use {choices}")
        if platform != _NATIVE[scheme]:
            raise EcmtError(
                ErrorCode.STORE_UNAVAILABLE, f"store {text!r} is not available on this platform"
            )
        if scheme == "windows":
            from ._windows import WindowsStore

            return WindowsStore(where, exportable_keys=exportable_keys, key_readers=key_readers)
        from ._macos import MacosStore

        return MacosStore(where)
    raise EcmtError(
        ErrorCode.CONFIG_INVALID,
        f"unknown store {text!r}: use nss[:DIR], firefox[:PROFILE], files[:DIR], "
        "windows:machine|user, macos:login|system",
    )


def _expand(where: str, home: Path) -> Path:
    """`~/x` against `home` (the test's or the user's), anything else as given."""
    path = Path(where)
    if where == "~" or where.startswith("~/"):
        return home / where[2:]
    return path.expanduser()
