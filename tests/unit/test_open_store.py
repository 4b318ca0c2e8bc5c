"""open_store: reading a store value into an adapter, and the defaults per platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecmt.certstore import default_store_value, open_store
from ecmt.certstore._files import FileStore
from ecmt.certstore._nss import NssStore
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


@pytest.mark.parametrize(
    "value", ["windows:machine", "windows:user", "macos:login", "macos:system"]
)
def test_os_stores_are_not_available_here_yet(value):
    with pytest.raises(EcmtError) as caught:
        opened(value)
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE
    assert "not available on this platform" in (caught.value.detail or "")


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
    assert default_store_value("win32", installed) == "files"


def test_unset_means_the_default(tmp_path):
    store = open_store(None, tmp_path, MemorySecrets())
    expected = NssStore if default_store_value().startswith("nss:") else FileStore
    assert isinstance(store, expected)
