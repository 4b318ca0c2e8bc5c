"""Certificate stores behind one port; `open_store` picks an adapter from a store value.

Store values (the `store` setting): `nss` or `nss:DIR` (an NSS database, default Chrome's
~/.pki/nssdb), `files` or `files:DIR` (a folder of PKCS#12 files, default
DATA_DIR/certificates), `windows:machine` or `windows:user` (LocalMachine\\My or
CurrentUser\\My), `macos:login|system` (not built yet).
Left unset: LocalMachine\\My on Windows, where the practice's clinical systems look; the NSS
database on Linux when certutil is installed; else the file store.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ..domain.errors import EcmtError, ErrorCode
from ..secrets import SecretStore
from ._files import FileStore
from ._nss import NssStore
from ._windows import WindowsStore
from .port import CertStore

__all__ = [
    "CertStore",
    "FileStore",
    "NssStore",
    "WindowsStore",
    "default_store_value",
    "open_store",
]

CHROME_NSSDB = "~/.pki/nssdb"
_OS_STORES = {"windows": ("machine", "user"), "macos": ("login", "system")}


def default_store_value(
    platform: str = sys.platform, which: Callable[[str], str | None] = shutil.which
) -> str:
    """The store used when none is configured: LocalMachine\\My on Windows, Chrome's NSS
    database where we can drive it."""
    if platform == "win32":
        return "windows:machine"
    if platform.startswith("linux") and which("certutil") and which("pk12util"):
        return f"nss:{CHROME_NSSDB}"
    return "files"


def open_store(
    value: str | None,
    data_dir: Path,
    secrets: SecretStore,
    *,
    exportable_keys: bool = True,
    key_readers: Sequence[str] = (),
    platform: str = sys.platform,
) -> CertStore:
    """The adapter for a store value. CONFIG_INVALID for a value we cannot read,
    STORE_UNAVAILABLE for a store this platform (or this build) lacks.

    `exportable_keys` and `key_readers` apply to the Windows store (see docs/windows.md)."""
    text = (value or default_store_value(platform)).strip()
    scheme, _, where = text.partition(":")
    if scheme == "nss":
        return NssStore(Path(where or CHROME_NSSDB).expanduser())
    if scheme == "files":
        folder = Path(where).expanduser() if where else data_dir / "certificates"
        return FileStore(folder, secrets)
    if scheme in _OS_STORES:
        if where not in _OS_STORES[scheme]:
            choices = " or ".join(f"{scheme}:{name}" for name in _OS_STORES[scheme])
            raise EcmtError(ErrorCode.CONFIG_INVALID, f"store {text!r}: use {choices}")
        if scheme == "windows" and platform == "win32":
            return WindowsStore(where, exportable_keys=exportable_keys, key_readers=key_readers)
        raise EcmtError(
            ErrorCode.STORE_UNAVAILABLE, f"store {text!r} is not available on this platform (yet)"
        )
    raise EcmtError(
        ErrorCode.CONFIG_INVALID,
        f"unknown store {text!r}: use nss:DIR, files[:DIR], windows:user, ...",
    )
