"""The MSI's deployment properties, read back from HKLM\\SOFTWARE\\ecmt\\Settings as a
settings layer. A fake winreg records the contract: the key, the 64-bit view, value
kinds, and ERROR_NO_MORE_ITEMS ending the enumeration."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ecmt import config, machine_registry
from ecmt.config import load_settings
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.machine_registry import REG_DWORD, REG_MULTI_SZ, REG_SZ, registry_settings

HKLM = 0x80000002
KEY_READ, KEY_WOW64_64KEY = 0x20019, 0x0100


class FakeKey:
    def __init__(self, values: list[tuple[str, Any, int]]) -> None:
        self.values = values
        self.closed = False

    def __enter__(self) -> FakeKey:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True


def fake_winreg(values: list[tuple[str, Any, int]] | None, error: OSError | None = None):
    opened: list[tuple[int, str, int, int]] = []
    key = FakeKey(values or [])

    def open_key(root: int, path: str, reserved: int, access: int) -> FakeKey:
        opened.append((root, path, reserved, access))
        if error is not None:
            raise error
        if values is None:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        return key

    def enum_value(handle: FakeKey, index: int) -> tuple[str, Any, int]:
        if index >= len(handle.values):
            raise OSError(259, "No more data is available")  # ERROR_NO_MORE_ITEMS
        return handle.values[index]

    module = SimpleNamespace(
        HKEY_LOCAL_MACHINE=HKLM,
        KEY_READ=KEY_READ,
        KEY_WOW64_64KEY=KEY_WOW64_64KEY,
        OpenKey=open_key,
        EnumValue=enum_value,
    )
    return module, opened, key


def test_reads_the_msi_values_from_the_64_bit_view_and_closes_the_key():
    winreg, opened, key = fake_winreg(
        [
            ("server_url", "https://ccms.practice.example", REG_SZ),
            ("store", "windows:machine", REG_SZ),
            ("trust_anchors", r"C:\ProgramData\ecmt\a.pem; C:\ProgramData\ecmt\b.pem", REG_SZ),
            ("key_readers", "", REG_SZ),  # a property left out: written empty, not set
        ]
    )
    assert registry_settings(winreg) == {  # type: ignore[arg-type]
        "server_url": "https://ccms.practice.example",
        "store": "windows:machine",
        "trust_anchors": [r"C:\ProgramData\ecmt\a.pem", r"C:\ProgramData\ecmt\b.pem"],
    }
    assert opened == [(HKLM, r"SOFTWARE\ecmt\Settings", 0, KEY_READ | KEY_WOW64_64KEY)]
    assert key.closed


def test_group_policy_kinds_multi_string_and_dword():
    winreg, _, _ = fake_winreg(
        [
            ("key_readers", ["NT AUTHORITY\\NETWORK SERVICE", " ", "PRACTICE\\svc"], REG_MULTI_SZ),
            ("renewal_window_days", 21, REG_DWORD),
        ]
    )
    assert registry_settings(winreg) == {  # type: ignore[arg-type]
        "key_readers": ["NT AUTHORITY\\NETWORK SERVICE", "PRACTICE\\svc"],
        "renewal_window_days": 21,
    }


def test_no_key_or_an_unreadable_key_is_no_layer(caplog):
    assert registry_settings(fake_winreg(None)[0]) == {}  # type: ignore[arg-type]
    denied = PermissionError(5, "Access is denied")
    assert registry_settings(fake_winreg([], denied)[0]) == {}  # type: ignore[arg-type]
    assert "not readable" in caplog.text


def test_off_windows_the_registry_is_not_consulted(monkeypatch):
    monkeypatch.setattr(machine_registry.sys, "platform", "linux")
    assert registry_settings() == {}


def _with_registry(monkeypatch, values: list[tuple[str, Any, int]]) -> None:
    winreg, _, _ = fake_winreg(values)
    monkeypatch.setattr(config, "registry_settings", lambda: registry_settings(winreg))  # type: ignore[arg-type]


def test_the_layer_sits_above_the_packaged_defaults_and_below_the_machine_file(
    monkeypatch, tmp_path: Path
):
    _with_registry(
        monkeypatch,
        [
            ("server_url", "https://from-the-msi.example", REG_SZ),
            ("store", "windows:machine", REG_SZ),
            ("key_algorithm", "ec-p256", REG_SZ),
        ],
    )
    packaged = tmp_path / "defaults.toml"
    packaged.write_text('key_algorithm = "rsa3072"\nstore = "files"\n')
    machine = tmp_path / "machine.toml"
    machine.write_text('store = "windows:user"\n')
    settings = load_settings(files=[packaged, machine])
    assert settings.server_url == "https://from-the-msi.example"  # only the MSI set it
    assert settings.key_algorithm == "ec-p256"  # the MSI beats the packaged defaults
    assert settings.store == "windows:user"  # the machine-wide file beats the MSI
    monkeypatch.setenv("ECMT_SERVER_URL", "https://from-the-environment.example")
    assert load_settings(files=[packaged, machine]).server_url.startswith("https://from-the-env")


def test_a_bad_value_from_the_registry_is_a_configuration_error(monkeypatch, tmp_path):
    _with_registry(monkeypatch, [("server_url", "http://plain.example", REG_SZ)])
    with pytest.raises(EcmtError) as caught:
        load_settings(files=[])
    assert caught.value.code is ErrorCode.CONFIG_INVALID
    assert "server_url" in str(caught.value.detail)
    _with_registry(monkeypatch, [("sever_url", "https://typo.example", REG_SZ)])
    with pytest.raises(EcmtError) as caught:
        load_settings(files=[])
    assert "sever_url" in str(caught.value.detail)


def test_the_first_window_reads_the_store_from_the_same_layer(monkeypatch, tmp_path):
    """The desktop app's fast start (config_files.start_values) layers the same way."""
    from ecmt import config_files

    winreg, _, _ = fake_winreg([("store", "windows:user", REG_SZ)])
    monkeypatch.setattr(config_files, "registry_settings", lambda: registry_settings(winreg))  # type: ignore[arg-type]
    packaged, machine, user = tmp_path / "p.toml", tmp_path / "m.toml", tmp_path / "u.toml"
    packaged.write_text('store = "files"\n')
    monkeypatch.setattr(config_files, "config_files", lambda extra: [packaged, machine, user])
    assert config_files.start_values(environ={}).store == "windows:user"
    machine.write_text('store = "windows:machine"\n')
    assert config_files.start_values(environ={}).store == "windows:machine"
