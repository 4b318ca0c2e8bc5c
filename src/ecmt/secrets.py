"""Small secrets (store and journal passwords) in the OS keyring, with a file fallback.

Where no keyring exists (a headless Linux box, a service account), the secret goes to a
0600 file in a 0700 folder of the user's state directory: no weaker than the 0600 key
files it protects, and documented in docs/configuration.md.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from ccms_protocol.files import private_dir, write_atomic

from .domain.errors import EcmtError, ErrorCode

SERVICE = "ecmt"
log = logging.getLogger(__name__)


class SecretStore(Protocol):
    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...


class KeyringSecrets:
    """The OS keyring (Windows Credential Manager, macOS Keychain, Secret Service)."""

    def __init__(self, fallback_dir: Path) -> None:
        self._fallback = FileSecrets(fallback_dir)
        self._checked: bool | None = None

    @property
    def _use_keyring(self) -> bool:
        """Looked up on first use: finding the keyring backend costs time at start-up."""
        if self._checked is None:
            import keyring
            from keyring.backends import fail

            self._checked = not isinstance(keyring.get_keyring(), fail.Keyring)
            if not self._checked:
                log.warning(
                    "no OS keyring; secrets kept in 0600 files under %s", self._fallback.folder
                )
        return self._checked

    @property
    def where(self) -> str:
        return "OS keyring" if self._use_keyring else f"files in {self._fallback.folder}"

    def get(self, name: str) -> str | None:
        if not self._use_keyring:
            return self._fallback.get(name)
        import keyring
        import keyring.errors

        try:
            return keyring.get_password(SERVICE, name)
        except keyring.errors.KeyringError as exc:
            raise EcmtError(ErrorCode.KEYRING_UNAVAILABLE, type(exc).__name__) from None

    def set(self, name: str, value: str) -> None:
        if not self._use_keyring:
            self._fallback.set(name, value)
            return
        import keyring
        import keyring.errors

        try:
            keyring.set_password(SERVICE, name, value)
        except keyring.errors.KeyringError as exc:
            raise EcmtError(ErrorCode.KEYRING_UNAVAILABLE, type(exc).__name__) from None

    def delete(self, name: str) -> None:
        if not self._use_keyring:
            self._fallback.delete(name)
            return
        import keyring
        import keyring.errors

        try:
            keyring.delete_password(SERVICE, name)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise EcmtError(ErrorCode.KEYRING_UNAVAILABLE, type(exc).__name__) from None


class FileSecrets:
    """One 0600 file per secret in a 0700 folder; written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
        return self.folder / f"{safe}.secret"

    def get(self, name: str) -> str | None:
        try:
            return self._path(name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def set(self, name: str, value: str) -> None:
        private_dir(self.folder)
        write_atomic(self._path(name), value.encode("utf-8"))

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)
