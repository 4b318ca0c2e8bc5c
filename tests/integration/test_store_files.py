"""FileStore: a real folder of PKCS#12 + PEM files, its password in a SecretStore.

What every store promises is in tests/contract; this file covers the folder itself."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from ecmt import pkcs12
from ecmt.certstore._files import PASSWORD_NAME, FileStore
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import Profile, epoc_of, fingerprint
from ecmt.secrets import FileSecrets
from fakes import MemorySecrets, MiniCA
from support import require_tool, rsa_key

FRIENDLY = "ePractitioner Dr Test Person"


@pytest.fixture
def secrets() -> MemorySecrets:
    return MemorySecrets()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "data" / "certificates"


@pytest.fixture
def store(folder: Path, secrets: MemorySecrets) -> FileStore:
    return FileStore(folder, secrets)


def install_new(server, store: FileStore, name: str = FRIENDLY):
    identity = server.new_identity()
    stored = store.install(identity.key, identity.cert, server.services.ca.chain(), name)
    return identity, stored


def test_round_trip(server, store, folder):
    identity, stored = install_new(server, store)
    profile = Profile(issuers=(server.services.ca.issuing.subject,), epoc=epoc_of(identity.cert))

    assert stored.fingerprint == fingerprint(identity.cert)
    assert stored.has_private_key
    assert stored.label == FRIENDLY
    assert stored.location == store.description
    assert store.list(profile) == [stored]
    assert store.list(Profile(epoc="1")) == []
    assert store.find(stored.fingerprint.upper()) == stored
    loaded = store.load_identity(stored.fingerprint)
    assert loaded.certificate == identity.cert
    assert loaded.key.public_key() == identity.key.public_key()
    assert list(loaded.chain) == server.services.ca.chain()

    store.remove(stored.fingerprint)

    assert store.list(profile) == []
    assert store.find(stored.fingerprint) is None
    assert list(folder.iterdir()) == []


@pytest.mark.posix
def test_files_and_modes(server, store, folder):
    _, stored = install_new(server, store)

    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"{stored.fingerprint}.p12", f"{stored.fingerprint}.pem"]  # no temp files
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pem = (folder / f"{stored.fingerprint}.pem").read_bytes()
    assert b"PRIVATE KEY" not in pem
    assert pem.count(b"BEGIN CERTIFICATE") == 3  # certificate, issuing CA, root
    data = (folder / f"{stored.fingerprint}.p12").read_bytes()
    assert pkcs12.OID_PBE_SHA1_3DES in data
    assert pkcs12.OID_SHA1 in data
    assert pkcs12.OID_PBES2 not in data


def test_password_lives_in_the_secret_store(server, tmp_path, folder):
    secrets = FileSecrets(tmp_path / "secrets")
    store = FileStore(folder, secrets)
    _, first = install_new(server, store)
    password = secrets.get(PASSWORD_NAME)
    assert password is not None
    assert len(password) >= 32
    _, second = install_new(server, store)
    assert secrets.get(PASSWORD_NAME) == password  # made once, then reused

    for stored in (first, second):
        data = (folder / f"{stored.fingerprint}.p12").read_bytes()
        opened = pkcs12.open_(data, password.encode())
        assert opened.friendly_name == FRIENDLY
        assert fingerprint(opened.certificate) == stored.fingerprint
    assert not any(password.encode() in p.read_bytes() for p in folder.iterdir())
    # a fresh store object over the same folder and secrets reads it all back
    assert len(FileStore(folder, secrets).list(Profile())) == 2


def test_wrong_or_missing_store_password(server, store, secrets):
    _, stored = install_new(server, store)
    secrets.set(PASSWORD_NAME, "not-the-password")
    with pytest.raises(EcmtError) as caught:
        store.load_identity(stored.fingerprint)
    assert caught.value.code is ErrorCode.STORE_WRONG_PASSWORD
    assert "not-the-password" not in str(caught.value)

    secrets.delete(PASSWORD_NAME)
    with pytest.raises(EcmtError) as caught:
        store.load_identity(stored.fingerprint)
    assert caught.value.code is ErrorCode.STORE_WRONG_PASSWORD


def test_openssl_opens_the_stored_file(server, store, secrets, folder, tmp_path):
    openssl = require_tool("openssl")
    _, stored = install_new(server, store)
    password_file = tmp_path / "password"
    password_file.write_text(secrets.get(PASSWORD_NAME) or "")
    password_file.chmod(0o600)

    done = subprocess.run(
        [openssl, "pkcs12", "-in", str(folder / f"{stored.fingerprint}.p12"), "-nokeys",
         "-passin", f"file:{password_file}"],
        capture_output=True, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout.count(b"BEGIN CERTIFICATE") == 3
    assert f"friendlyName: {FRIENDLY}".encode() in done.stdout


def test_installing_again_keeps_the_file_and_replaces_an_unreadable_one(server, store, secrets):
    identity, stored = install_new(server, store)
    p12 = store.folder / f"{stored.fingerprint}.p12"
    before = p12.stat().st_ino

    assert store.install(identity.key, identity.cert, [], FRIENDLY) == stored
    assert p12.stat().st_ino == before  # create-exclusive: the existing file stays

    p12.write_bytes(b"damaged")
    store.install(identity.key, identity.cert, [], FRIENDLY)
    assert store.load_identity(stored.fingerprint).certificate == identity.cert


def test_a_certificate_without_its_p12(server, store):
    _, stored = install_new(server, store)
    (store.folder / f"{stored.fingerprint}.p12").unlink()

    (listed,) = store.list(Profile())
    assert not listed.has_private_key
    with pytest.raises(EcmtError) as caught:
        store.load_identity(stored.fingerprint)
    assert caught.value.code is ErrorCode.BACKUP_NO_KEY
    store.remove(stored.fingerprint)
    assert store.find(stored.fingerprint) is None


def test_unknown_and_malformed_fingerprints(store, folder):
    for fp in ("ab" * 32, "../../etc/passwd", ""):
        assert store.find(fp) is None
        for call in (store.remove, store.load_identity):
            with pytest.raises(EcmtError) as caught:
                call(fp)
            assert caught.value.code is ErrorCode.STORE_NOT_FOUND
    assert store.list(Profile()) == []  # no folder yet
    assert not folder.exists()


def test_stray_files_are_skipped(store, folder):
    ca = MiniCA()
    key = rsa_key()
    cert = ca.issue(key.public_key(), "5200001")
    stored = store.install(key, cert, [ca.issuing], FRIENDLY)
    (folder / ("cd" * 32 + ".pem")).write_bytes(b"not a certificate")
    (folder / ("ef" * 32 + ".pem")).write_bytes((folder / f"{stored.fingerprint}.pem").read_bytes())
    (folder / "notes.pem").write_bytes(b"")

    assert store.list(Profile()) == [stored]


def test_availability(tmp_path, secrets):
    store = FileStore(tmp_path / "a" / "b", secrets)
    assert store.available()
    assert not store.needs_elevation()
    (tmp_path / "file").write_text("")
    assert not FileStore(tmp_path / "file", secrets).available()
    assert str(tmp_path / "a" / "b") in store.description
