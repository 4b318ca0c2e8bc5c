from __future__ import annotations

import os
import stat

import pytest

from ccms_protocol.files import write_atomic
from ccms_server.settings import load_settings


def test_precedence_defaults_file_env_flags(tmp_path, monkeypatch):
    assert load_settings(tmp_path).pin_validity_days == 60
    (tmp_path / "ccms-server.toml").write_text("pin_validity_days = 30\nmax_failed_pins = 3\n")
    assert load_settings(tmp_path).pin_validity_days == 30
    monkeypatch.setenv("CCMS_PIN_VALIDITY_DAYS", "20")
    settings = load_settings(tmp_path)
    assert settings.pin_validity_days == 20
    assert settings.max_failed_pins == 3
    assert load_settings(tmp_path, pin_validity_days=10).pin_validity_days == 10


def test_unknown_settings_are_errors(tmp_path):
    (tmp_path / "ccms-server.toml").write_text("pin_validty_days = 30\n")
    with pytest.raises(ValueError, match="pin_validty_days"):
        load_settings(tmp_path)


def test_defaults_and_trusted_proxies(tmp_path):
    settings = load_settings(tmp_path, trusted_proxies=["10.0.0.0/8", "::1/128"])
    assert settings.effective_database_url == f"sqlite:///{tmp_path.resolve()}/ccms.sqlite3"
    assert settings.is_trusted_proxy("10.2.3.4")
    assert settings.is_trusted_proxy("::1")
    assert not settings.is_trusted_proxy("127.0.0.1")
    assert not settings.is_trusted_proxy("not an ip")
    assert not settings.is_trusted_proxy(None)


@pytest.mark.posix
def test_write_atomic_is_private_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "sub" / "file.pem"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["file.pem"]


def test_write_atomic_failure_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "file"
    write_atomic(target, b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_key_wish_must_be_acceptable_to_enrolment(tmp_path):
    with pytest.raises(ValueError, match="below min_rsa_bits"):
        load_settings(tmp_path, min_rsa_bits=3072)
    assert load_settings(tmp_path, min_rsa_bits=3072, csr_key_wish="rsa3072").min_rsa_bits == 3072
