"""The keychain adapter's own contract with the Security framework, over the fake
(tests/fakes_macos.py): the keychain it names, the PKCS#12 it hands over, the access list,
the labels, every OSStatus as a STORE_* code with its number and macOS's words, and
nothing left behind when a step fails. What every store does is in tests/contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecmt import pkcs12
from ecmt.certstore import _mac_errors
from ecmt.certstore._macos import MacosStore, public_key_hash
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import BackupFormat, Profile, fingerprint
from ecmt.keys import generate
from fakes import MiniCA
from fakes_macos import (
    SELF,
    FakeSecurity,
    errSecAuthFailed,
    errSecDecode,
    errSecInteractionNotAllowed,
    errSecItemNotFound,
    errSecPkcs12VerifyFailure,
)
from fakes_macos import (
    public_key_hash as fake_hash,
)
from support import rsa_key

NAME = "ePractitioner Dr Test Person"


@pytest.fixture
def fake() -> FakeSecurity:
    return FakeSecurity()


@pytest.fixture
def keychain(tmp_path: Path, fake: FakeSecurity) -> Path:
    path = tmp_path / "login.keychain-db"
    fake.create_keychain(path)
    return path


@pytest.fixture
def store(fake: FakeSecurity, keychain: Path) -> MacosStore:
    return MacosStore("login", keychain=keychain, api=fake, browsers=[])


def install(store: MacosStore, ca: MiniCA, epoc: str = "5500001"):
    key = rsa_key()
    cert = ca.issue(key.public_key(), epoc)
    return key, cert, store.install(key, cert, [ca.issuing, ca.root], NAME)


def test_install_names_the_keychain_and_hands_over_a_3des_sha1_pkcs12(fake, keychain, store):
    _key, cert, stored = install(store, MiniCA())

    (call,) = fake.called("SecPKCS12Import")
    data, options, out = call.args
    assert out is None
    assert options["keychain"].path == keychain
    assert pkcs12.OID_PBE_SHA1_3DES in data
    assert pkcs12.OID_SHA1 in data
    assert pkcs12.OID_PBES2 not in data
    assert pkcs12.open_(data, options["passphrase"].encode()).certificate == cert
    assert stored.label == NAME
    searches = fake.called("SecItemCopyMatching")
    assert searches
    assert all(c.args[0]["m_SearchList"][0].path == keychain for c in searches)


def test_certificate_and_key_both_carry_the_friendly_name(fake, keychain, store):
    _key, cert, _stored = install(store, MiniCA())

    (leaf,) = [c for c in fake.items(keychain, "cert") if c.attrs["pkhh"] == fake_hash(
        cert.public_key()
    )]  # fmt: skip
    (key,) = fake.items(keychain, "keys")
    assert leaf.attrs["labl"] == NAME
    assert key.attrs["labl"] == NAME
    updates = fake.called("SecItemUpdate")
    assert [c.args[1] for c in updates] == [{"labl": NAME}, {"labl": NAME}]


def test_the_key_hash_is_the_keychains_own(fake):
    for key in (rsa_key(), generate("ec-p256")):
        cert = MiniCA().issue(key.public_key(), "5500001")
        assert public_key_hash(cert) == fake_hash(cert.public_key())


def test_the_access_list_names_this_program_and_the_browsers_installed(fake, keychain, tmp_path):
    safari = tmp_path / "Safari.app"
    safari.mkdir()
    browsers = [str(safari), str(tmp_path / "Google Chrome.app")]  # Chrome: not installed
    store = MacosStore("login", keychain=keychain, api=fake, browsers=browsers)

    install(store, MiniCA())

    (key,) = fake.items(keychain, "keys")
    assert [app.path for app in key.access.apps] == [SELF, str(safari)]
    assert key.access.descriptor == NAME


def test_an_aes_pkcs12_is_what_older_macos_refuses(fake, keychain):
    """The fake refuses what older macOS refuses, so the 3DES check above means something."""
    ca = MiniCA()
    key = rsa_key()
    cert = ca.issue(key.public_key(), "5500001")
    modern = pkcs12.build(key, cert, [], NAME, b"pw", BackupFormat.MODERN)
    status, _ = fake.SecPKCS12Import(
        modern, {"passphrase": "pw", "keychain": fake.SecKeychainOpen(bytes(keychain), None)[1]},
        None,
    )  # fmt: skip
    assert status == errSecPkcs12VerifyFailure


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        (errSecAuthFailed, ErrorCode.STORE_UNSUPPORTED_FORMAT, "passphrase you entered"),
        (errSecPkcs12VerifyFailure, ErrorCode.STORE_UNSUPPORTED_FORMAT, "MAC verification"),
        (errSecDecode, ErrorCode.STORE_UNSUPPORTED_FORMAT, "Unable to decode"),
        (errSecInteractionNotAllowed, ErrorCode.STORE_LOCKED, "User interaction is not allowed"),
        (-128, ErrorCode.STORE_ACCESS_REFUSED, ""),
        (-61, ErrorCode.STORE_ELEVATION_REQUIRED, "Write permissions error"),
        (-12345, ErrorCode.STORE_ERROR, ""),
    ],
)
def test_an_import_failure_is_a_store_code_with_the_number_and_nothing_is_left(
    fake, keychain, store, status, code, words
):
    fake.fail_next["SecPKCS12Import"] = status
    with pytest.raises(EcmtError) as caught:
        install(store, MiniCA())
    assert caught.value.code is code
    detail = caught.value.detail or ""
    assert f"SecPKCS12Import: OSStatus {status}" in detail
    assert words in detail
    name = _mac_errors.NAMES.get(status)
    if name:
        assert name in detail
    assert fake.keychains[keychain].items == []


def test_a_locked_keychain_says_so_before_anything_is_imported(fake, keychain, store):
    fake.keychains[keychain].locked = True
    with pytest.raises(EcmtError) as caught:
        install(store, MiniCA())
    assert caught.value.code is ErrorCode.STORE_LOCKED
    assert "-25308 errSecInteractionNotAllowed: User interaction is not allowed." in str(
        caught.value
    )
    assert fake.called("SecPKCS12Import") == []


def test_a_failure_after_the_import_removes_certificate_and_key(fake, keychain, store):
    fake.fail_next["SecItemUpdate"] = errSecInteractionNotAllowed
    with pytest.raises(EcmtError) as caught:
        install(store, MiniCA())
    assert caught.value.code is ErrorCode.STORE_LOCKED
    assert "naming the certificate" in (caught.value.detail or "")
    assert fake.items(keychain, "keys") == []
    assert store.list(Profile()) == []


def test_already_there_is_success(fake, keychain, store):
    ca = MiniCA()
    key, cert, first = install(store, ca)

    again = store.install(key, cert, [ca.issuing, ca.root], NAME)

    assert again == first
    assert len(fake.items(keychain, "keys")) == 1


def test_the_system_keychain_without_write_access_stops_before_the_import(
    fake, tmp_path, monkeypatch
):
    path = tmp_path / "System.keychain"
    path.touch()
    fake.create_keychain(path)
    store = MacosStore("system", keychain=path, api=fake, browsers=[])
    assert not store.needs_elevation()
    monkeypatch.setattr(  # the file as a user who is not an administrator sees it
        "ecmt.certstore._macos.os.access", lambda p, mode: Path(p) != path
    )
    assert store.needs_elevation()
    assert not MacosStore("login", keychain=path, api=fake).needs_elevation()
    with pytest.raises(EcmtError) as caught:
        install(store, MiniCA())
    assert caught.value.code is ErrorCode.STORE_ELEVATION_REQUIRED
    assert fake.called("SecPKCS12Import") == []


def test_a_key_the_keychain_will_not_hand_out_is_backup_no_key(tmp_path):
    fake = FakeSecurity(extractable=False)
    path = tmp_path / "login.keychain-db"
    fake.create_keychain(path)
    store = MacosStore("login", keychain=path, api=fake, browsers=[])
    _key, _cert, stored = install(store, MiniCA())

    with pytest.raises(EcmtError) as caught:
        store.load_identity(stored.fingerprint)

    assert caught.value.code is ErrorCode.BACKUP_NO_KEY
    assert "SecItemExport: OSStatus -25316 errSecDataNotAvailable" in (caught.value.detail or "")
    (call,) = fake.called("SecItemExport")
    assert call.args[1] == 12  # kSecFormatPKCS12
    assert call.args[3].passphrase  # a one-time password, in memory


def test_remove_keeps_a_key_another_certificate_uses(fake, keychain, store):
    ca = MiniCA()
    key, _cert, first = install(store, ca)
    second = ca.issue(key.public_key(), "5500001")  # the same key, certified again
    fake.add_certificate(keychain, second)

    store.remove(first.fingerprint)

    assert store.find(first.fingerprint) is None
    assert store.find(fingerprint(second)).has_private_key
    assert len(fake.items(keychain, "keys")) == 1


def test_a_missing_keychain_is_unavailable(fake, tmp_path):
    store = MacosStore("login", keychain=tmp_path / "gone.keychain-db", api=fake, browsers=[])
    assert not store.available()
    with pytest.raises(EcmtError) as caught:
        store.list(Profile())
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE
    assert "OSStatus -25294 errSecNoSuchKeychain" in (caught.value.detail or "")


def test_a_deleted_item_is_not_found(fake, keychain, store):
    _key, _cert, stored = install(store, MiniCA())
    fake.fail_next["SecItemDelete"] = errSecItemNotFound
    with pytest.raises(EcmtError) as caught:
        store.remove(stored.fingerprint)
    assert caught.value.code is ErrorCode.STORE_NOT_FOUND


def test_off_macos_the_real_framework_is_unavailable(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.platform", "linux")
    store = MacosStore("login", keychain=tmp_path / "x.keychain-db")
    assert not store.available()
    with pytest.raises(EcmtError) as caught:
        store.list(Profile())
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE
