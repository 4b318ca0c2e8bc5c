"""open_store: reading a store value into an adapter, and the defaults per platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecmt.certstore import default_store_value, open_store
from ecmt.certstore._files import FileStore
from ecmt.certstore._nss import NssStore
from ecmt.certstore._windows import WindowsStore
from ecmt.domain.errors import EcmtError, ErrorCode
from fakes import MemorySecrets


def opened(value: str | None, data_dir: Path = Path("/data")):
    return open_store(value, data_dir, MemorySecrets())


def test_nss_values():
    store = opened("nss:/var/db/nssdb")
    assert isinstance(store, NssStore)
    assert store.directory == Path("/var/db/nssdb")
    assert opened("nss:~/custom").directory == Path.home() / "custom"
    for chrome in ("nss", "nss:", " nss:~/.pki/nssdb "):
        assert opened(chrome).directory == Path.home() / ".pki" / "nssdb"


def test_files_values(tmp_path):
    store = opened("files", tmp_path)
    assert isinstance(store, FileStore)
    assert store.folder == tmp_path / "certificates"
    assert opened("files:/srv/certs").folder == Path("/srv/certs")
    assert opened("files:~/certs").folder == Path.home() / "certs"


@pytest.mark.parametrize("value", ["macos:login", "macos:system"])
def test_macos_stores_are_not_available_yet(value):
    with pytest.raises(EcmtError) as caught:
        opened(value)
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE
    assert "not available on this platform" in (caught.value.detail or "")


@pytest.mark.parametrize("where", ["machine", "user"])
def test_windows_stores_open_on_windows_only(where):
    secrets = MemorySecrets()
    store = open_store(
        f"windows:{where}",
        Path("/data"),
        secrets,
        exportable_keys=False,
        key_readers=["NT AUTHORITY\\NETWORK SERVICE"],
        platform="win32",
    )
    assert isinstance(store, WindowsStore)
    assert store.location == where
    assert not store.exportable_keys
    assert store.key_readers == ("NT AUTHORITY\\NETWORK SERVICE",)
    name = {"machine": "LocalMachine", "user": "CurrentUser"}[where]
    assert store.description == f"Windows certificate store {name}\\My"
    with pytest.raises(EcmtError) as caught:
        open_store(f"windows:{where}", Path("/data"), secrets, platform="linux")
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE


@pytest.mark.parametrize(
    "value", ["windows", "windows:LocalMachine", "macos:", "keychain", "pkcs12:/x", "NSS:/x"]
)
def test_unreadable_values_are_configuration_errors(value):
    with pytest.raises(EcmtError) as caught:
        opened(value)
    assert caught.value.code is ErrorCode.CONFIG_INVALID


def test_default_per_platform():
    def installed(name: str) -> str | None:
        return f"/usr/bin/{name}"

    def missing(name: str) -> str | None:
        return None

    assert default_store_value("linux", installed) == "nss:~/.pki/nssdb"
    assert default_store_value("linux", missing) == "files"
    assert default_store_value("darwin", installed) == "files"
    assert default_store_value("win32", installed) == "windows:machine"
    assert default_store_value("win32", missing) == "windows:machine"


def test_unset_means_the_default(tmp_path):
    store = open_store(None, tmp_path, MemorySecrets())
    default = default_store_value()
    expected = {"nss": NssStore, "windows": WindowsStore}.get(default.partition(":")[0], FileStore)
    assert isinstance(store, expected)
    assert isinstance(open_store(None, tmp_path, MemorySecrets(), platform="win32"), WindowsStore)
