"""open_store: reading a store value into an adapter, and the defaults per platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecmt.certstore import SeveralStores, default_store_value, open_store, store_values
from ecmt.certstore._files import FileStore
from ecmt.certstore._firefox import FirefoxProfiles, FirefoxProfileStore
from ecmt.certstore._macos import MacosStore
from ecmt.certstore._nss import NssStore
from ecmt.certstore._windows import WindowsStore
from ecmt.domain.errors import EcmtError, ErrorCode
from fakes import MemorySecrets


def opened(value: str | None, data_dir: Path = Path("/data"), **options):
    return open_store(value, data_dir, MemorySecrets(), **options)


def test_nss_values(tmp_path):
    store = opened("nss:/var/db/nssdb")
    assert isinstance(store, NssStore)
    assert store.directory == Path("/var/db/nssdb")
    assert opened("nss:~/custom").directory == Path.home() / "custom"
    assert opened("nss:~/custom", home=tmp_path).directory == tmp_path / "custom"
    assert opened(" nss:~/.pki/nssdb ", home=tmp_path).directory == tmp_path / ".pki/nssdb"


def test_nss_alone_is_the_database_chromium_reads(tmp_path):
    """Chromium 146+: ~/.local/share/pki/nssdb in a fresh home, ~/.pki/nssdb where it is."""
    for value in ("nss", "nss:"):
        assert opened(value, home=tmp_path).directory == tmp_path / ".local/share/pki/nssdb"
    (tmp_path / ".local/share/pki/nssdb").mkdir(parents=True)
    assert opened("nss", home=tmp_path).directory == tmp_path / ".local/share/pki/nssdb"
    (tmp_path / ".pki/nssdb").mkdir(parents=True)  # both: the old one wins, even empty
    assert opened("nss", home=tmp_path).directory == tmp_path / ".pki/nssdb"


def test_firefox_values(tmp_path):
    profile = tmp_path / ".mozilla/firefox/abcd1234.default-release"
    profile.mkdir(parents=True)
    (profile.parent / "profiles.ini").write_text(
        "[Profile0]\nName=default-release\nIsRelative=1\nPath=abcd1234.default-release\n"
    )
    every = opened("firefox", home=tmp_path, platform="linux")
    assert isinstance(every, FirefoxProfiles)
    assert every.places() == []  # no cert9.db yet: Firefox never started with it
    (profile / "cert9.db").touch()
    (only,) = every.places()
    assert only.value == "firefox"
    one = opened("firefox:default-release", home=tmp_path, platform="linux", firefox_wait_seconds=3)
    assert isinstance(one, FirefoxProfileStore)
    assert one.nss.directory == profile
    assert one.wait_seconds == 3
    by_folder = opened("firefox:abcd1234.default-release", home=tmp_path, platform="linux")
    assert by_folder.nss.directory == profile
    with pytest.raises(EcmtError) as caught:
        opened("firefox:work", home=tmp_path, platform="linux")
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE
    assert "default-release" in (caught.value.detail or "")
    with pytest.raises(EcmtError) as caught:
        opened("firefox", home=tmp_path, platform="darwin")
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE


def test_several_values_make_one_store(tmp_path):
    store = opened(" nss , files:/srv/certs", home=tmp_path)
    assert isinstance(store, SeveralStores)
    assert [p.value for p in store.places()] == ["nss", "files:/srv/certs"]
    assert isinstance(store.places()[0].store, NssStore)
    assert isinstance(store.places()[1].store, FileStore)
    assert store.value == "nss,files:/srv/certs"
    assert store_values("nss,firefox") == ["nss", "firefox"]


@pytest.mark.parametrize(
    "value", ["nss,nss", "nss,", ",files", "nss:~/.pki/nssdb,nss:~/.pki/nssdb/"]
)
def test_a_list_with_a_gap_or_a_store_twice_is_a_configuration_error(value, tmp_path):
    (tmp_path / ".pki/nssdb").mkdir(parents=True)
    with pytest.raises(EcmtError) as caught:
        opened(value, home=tmp_path)
    assert caught.value.code is ErrorCode.CONFIG_INVALID


def test_files_values(tmp_path):
    store = opened("files", tmp_path)
    assert isinstance(store, FileStore)
    assert store.folder == tmp_path / "certificates"
    assert opened("files:/srv/certs").folder == Path("/srv/certs")
    assert opened("files:~/certs").folder == Path.home() / "certs"


@pytest.mark.parametrize("where", ["login", "system"])
def test_macos_keychains_open_on_macos_only(where):
    store = opened(f"macos:{where}", platform="darwin")
    assert isinstance(store, MacosStore)
    assert store.location == where
    expected = {
        "login": Path.home() / "Library/Keychains/login.keychain-db",
        "system": Path("/Library/Keychains/System.keychain"),
    }
    assert store.path == expected[where]
    with pytest.raises(EcmtError) as caught:
        opened(f"macos:{where}", platform="linux")
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
    "value",
    ["windows", "windows:LocalMachine", "macos:", "keychain", "pkcs12:/x", "NSS:/x", "Firefox"],
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

    assert default_store_value("linux", installed) == "nss"
    assert default_store_value("linux", missing) == "files"
    assert default_store_value("darwin", installed) == "macos:login"
    assert default_store_value("win32", installed) == "windows:machine"
    assert default_store_value("win32", missing) == "windows:machine"


def test_unset_means_the_default(tmp_path):
    store = open_store(None, tmp_path, MemorySecrets())
    default = default_store_value()
    expected = {"nss": NssStore, "windows": WindowsStore, "macos": MacosStore}.get(
        default.partition(":")[0], FileStore
    )
    assert isinstance(store, expected)
    assert isinstance(open_store(None, tmp_path, MemorySecrets(), platform="win32"), WindowsStore)
