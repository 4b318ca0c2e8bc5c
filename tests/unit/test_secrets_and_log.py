"""Secrets in the keyring (or a 0600 file where there is none); the log's secret mask."""

from __future__ import annotations

import logging
import stat

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from ecmt.logsetup import MASK, REDACTOR, configure
from ecmt.secrets import KeyringSecrets


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.values.pop((service, username), None)


@pytest.fixture
def restore_keyring():
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


def test_secrets_go_to_the_os_keyring_when_there_is_one(tmp_path, restore_keyring):
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    secrets = KeyringSecrets(tmp_path / "fallback")
    secrets.set("journal-key", "s3cret")
    assert backend.values == {("ecmt", "journal-key"): "s3cret"}
    assert secrets.get("journal-key") == "s3cret"
    assert secrets.where == "OS keyring"
    secrets.delete("journal-key")
    assert secrets.get("journal-key") is None
    assert not (tmp_path / "fallback").exists()


@pytest.mark.posix
def test_without_a_keyring_secrets_are_private_files(tmp_path, restore_keyring):
    keyring.set_keyring(fail.Keyring())
    secrets = KeyringSecrets(tmp_path / "fallback")
    secrets.set("files-store-password", "s3cret")
    path = tmp_path / "fallback" / "files-store-password.secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert secrets.get("files-store-password") == "s3cret"
    secrets.delete("files-store-password")
    assert not path.exists()


@pytest.mark.posix
def test_log_masks_registered_secrets(tmp_path):
    path = configure(tmp_path / "logs")
    REDACTOR.register("K7QM-4X9R-T3HP")
    logging.getLogger("ecmt.test").warning("user typed %s and %s", "K7QM-4X9R-T3HP", "K7QM4X9RT3HP")
    for handler in logging.getLogger("ecmt").handlers:
        handler.flush()
    text = path.read_text()
    assert "K7QM" not in text
    assert text.count(MASK) == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
