"""NssStore against the real certutil and pk12util, in temporary NSS databases.

What every store promises is in tests/contract; this file pins the NSS behaviour the
adapter is built on (see ecmt/certstore/_nss.py): a renewed certificate inherits its
subject's nickname, and a bare nickname picks a certificate by NSS's own preference, so
removal must address one certificate by PKCS#11 URI.
"""

from __future__ import annotations

import itertools
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr

from ecmt import pkcs12
from ecmt.certstore._nss import NssStore
from ecmt.certstore._nss_tool import (
    cert_uri,
    failure,
    key_id,
    parse_key_ids,
    parse_nicknames,
)
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import Profile, epoc_of, fingerprint
from fakes import MiniCA
from support import certs_from_body, require_tool, rsa_key

FRIENDLY = "ePractitioner Dr Test Person"


@dataclass
class Recorder:
    """A runner that runs the real tool, recording argv and checking the password files."""

    calls: list[list[str]] = field(default_factory=list)
    secrets: list[bytes] = field(default_factory=list)

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        assert kwargs["stdin"] is subprocess.DEVNULL
        for flag, value in itertools.pairwise(argv):
            if flag in {"-f", "-k", "-w"}:
                assert stat.S_IMODE(Path(value).stat().st_mode) == 0o600
                assert stat.S_IMODE(Path(value).parent.stat().st_mode) == 0o700
        self.calls.append(list(argv))
        return subprocess.run(argv, **kwargs)

    def argv_text(self) -> str:
        return "\n".join(" ".join(call) for call in self.calls)


@pytest.fixture(autouse=True)
def _tools() -> None:
    require_tool("certutil")
    require_tool("pk12util")


@pytest.fixture
def work_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "not-used"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))  # preferred: tmpfs on a desktop
    return folder


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    original = pkcs12.one_time_password

    def recording() -> bytes:
        rec.secrets.append(original())
        return rec.secrets[-1]

    monkeypatch.setattr(pkcs12, "one_time_password", recording)
    return rec


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "nssdb"


@pytest.fixture
def store(db: Path, recorder: Recorder, work_tmp: Path) -> Any:
    yield NssStore(db, runner=recorder)
    assert list(work_tmp.iterdir()) == []  # every session folder removed
    for secret in recorder.secrets:
        assert secret.decode() not in recorder.argv_text()


def certutil(db: Path, *args: str) -> str:
    empty = db.parent / "empty.pw"
    empty.touch()
    try:
        done = subprocess.run(
            ["certutil", *args, "-d", f"sql:{db}", "-f", str(empty)],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            check=True,
        )
    finally:
        empty.unlink()
    return done.stdout.decode()


def fingerprints(store: NssStore) -> set[str]:
    return {s.fingerprint for s in store.list(Profile())}


def renew(server: Any, identity: Any) -> tuple[Any, x509.Certificate]:
    key = rsa_key()
    response = server.reenroll(identity, key)
    assert response.status_code == 200, response.text
    return key, certs_from_body(response.content)[0]


def profile_of(server: Any, cert: x509.Certificate) -> Profile:
    return Profile(issuers=(server.services.ca.issuing.subject,), epoc=epoc_of(cert))


def test_install_then_list_and_find(server, store, db):
    identity = server.new_identity()
    stored = store.install(identity.key, identity.cert, server.services.ca.chain(), FRIENDLY)

    assert stored.fingerprint == fingerprint(identity.cert)
    assert stored.label == FRIENDLY
    assert stored.has_private_key
    assert stored.location == store.description
    assert store.list(profile_of(server, identity.cert)) == [stored]
    assert store.list(Profile(epoc="1")) == []
    assert store.find(stored.fingerprint.upper()) == stored
    assert store.find("0" * 64) is None
    # the CA chain came along, without keys; it is not of our profile
    assert {s.has_private_key for s in store.list(Profile())} == {True}
    assert FRIENDLY in parse_nicknames(certutil(db, "-L").encode())
    assert stat.S_IMODE(db.stat().st_mode) == 0o700


def test_renewed_certificate_inherits_the_nickname_and_the_old_one_is_removed(server, store, db):
    identity = server.new_identity()
    chain = server.services.ca.chain()
    old = store.install(identity.key, identity.cert, chain, FRIENDLY)
    new_key, new_cert = renew(server, identity)
    assert new_cert.subject == identity.cert.subject

    new = store.install(new_key, new_cert, chain, "ePractitioner renewed")

    assert new.label == FRIENDLY  # NSS ignores the new friendlyName for a known subject
    assert {s.fingerprint for s in store.list(profile_of(server, new_cert))} == {
        old.fingerprint,
        new.fingerprint,
    }
    store.remove(old.fingerprint)

    (left,) = store.list(profile_of(server, new_cert))
    assert left.fingerprint == new.fingerprint
    assert left.has_private_key
    assert parse_key_ids(certutil(db, "-K").encode()) == {key_id(new_cert)}
    identity_now = store.load_identity(new.fingerprint)
    assert identity_now.key.public_key() == new_key.public_key()


def test_removing_the_new_certificate_keeps_the_old(server, store, db):
    identity = server.new_identity()
    chain = server.services.ca.chain()
    old = store.install(identity.key, identity.cert, chain, FRIENDLY)
    new_key, new_cert = renew(server, identity)
    new = store.install(new_key, new_cert, chain, FRIENDLY)

    store.remove(new.fingerprint)

    (left,) = store.list(profile_of(server, new_cert))
    assert left.fingerprint == old.fingerprint
    assert left.has_private_key
    assert parse_key_ids(certutil(db, "-K").encode()) == {key_id(identity.cert)}


def issue_pair(not_before_of_new: timedelta) -> tuple[MiniCA, dict[str, Any], dict[str, Any]]:
    """An old certificate and its renewal (same subject, new key), the renewal starting later."""
    ca, now = MiniCA(), datetime.now(UTC)
    keys = {"old": rsa_key(), "new": rsa_key()}
    certs = {
        "old": ca.issue(keys["old"].public_key(), "5100001", not_before=now - timedelta(days=2)),
        "new": ca.issue(keys["new"].public_key(), "5100001", not_before=now + not_before_of_new),
    }
    return ca, keys, certs


@pytest.mark.parametrize(
    ("starts", "nss_picks"),
    [
        (timedelta(days=-1), "new"),  # both valid: the newer
        (timedelta(hours=12), "new"),  # not yet valid, but within NSS's one-day slop
        (timedelta(days=3), "old"),  # not yet valid: the valid one
    ],
)
@pytest.mark.parametrize("target", ["old", "new"])
def test_a_bare_nickname_picks_by_nss_preference_a_fingerprint_does_not(
    store, db, starts, nss_picks, target
):
    ca, keys, certs = issue_pair(starts)
    for name in ("old", "new"):
        store.install(keys[name], certs[name], [ca.issuing, ca.root], FRIENDLY)

    copy = db.parent / "copy"
    shutil.copytree(db, copy)
    certutil(copy, "-D", "-n", FRIENDLY)
    remaining = {s.fingerprint for s in NssStore(copy).list(Profile())}
    assert fingerprint(certs[nss_picks]) not in remaining
    assert len(remaining) == 1

    store.remove(fingerprint(certs[target]))
    other = "new" if target == "old" else "old"
    (left,) = store.list(Profile(epoc="5100001"))
    assert left.fingerprint == fingerprint(certs[other])
    assert left.has_private_key
    assert parse_key_ids(certutil(db, "-K").encode()) == {key_id(certs[other])}


def test_a_certificate_without_a_key_is_removed_and_nothing_else(server, store):
    identity = server.new_identity()
    store.install(identity.key, identity.cert, server.services.ca.chain(), FRIENDLY)
    issuing = fingerprint(server.services.ca.issuing)
    before = fingerprints(store)
    assert store.find(issuing) is not None
    assert not store.find(issuing).has_private_key

    store.remove(issuing)  # certutil -F would report success and remove nothing

    assert fingerprints(store) == before - {issuing}
    assert store.find(fingerprint(identity.cert)).has_private_key


def test_two_certificates_with_one_key_are_not_guessed_at(store):
    ca = MiniCA()
    key = rsa_key()
    first = ca.issue(key.public_key(), "5100002")
    second = ca.issue(key.public_key(), "5100002")
    store.install(key, first, [ca.issuing], FRIENDLY)
    store.install(key, second, [ca.issuing], FRIENDLY)
    before = fingerprints(store)

    with pytest.raises(EcmtError) as caught:
        store.remove(fingerprint(first))

    assert caught.value.code is ErrorCode.STORE_ERROR
    assert fingerprints(store) == before


def test_ec_keys_and_unusual_nicknames(store):
    ca = MiniCA()
    key = ec.generate_private_key(ec.SECP256R1())
    cert = ca.issue(key.public_key(), "5100003")
    name = "Dr Ünïcode: O'Brien (GP) %20;x"

    stored = store.install(key, cert, [ca.issuing], name)

    assert stored.label == name

    assert stored.has_private_key
    assert store.load_identity(stored.fingerprint).key.public_key() == key.public_key()
    store.remove(stored.fingerprint)
    assert store.find(stored.fingerprint) is None


def test_no_database_yet_is_not_found(store, db):
    # the contract suite (tests/contract) covers unknown fingerprints in a database
    for call in (store.remove, store.load_identity):
        with pytest.raises(EcmtError) as caught:
            call("ab" * 32)
        assert caught.value.code is ErrorCode.STORE_NOT_FOUND
    assert not db.exists()


def test_no_password_in_argv_and_no_secret_files_left(server, store, recorder, tmp_path, work_tmp):
    identity = server.new_identity()
    stored = store.install(identity.key, identity.cert, server.services.ca.chain(), FRIENDLY)
    store.load_identity(stored.fingerprint)
    store.remove(stored.fingerprint)

    assert len(recorder.secrets) == 2  # import and export
    text = recorder.argv_text()
    assert all(secret.decode() not in text for secret in recorder.secrets)
    assert {call[0] for call in recorder.calls} == {"certutil", "pk12util"}
    files = [
        v for call in recorder.calls for f, v in itertools.pairwise(call) if f in {"-f", "-k", "-w"}
    ]
    assert files
    assert all(Path(v).parent.parent == work_tmp for v in files)
    assert list(tmp_path.rglob("*.p12")) == []
    assert list(tmp_path.rglob("*.pw")) == []


def test_a_database_with_a_password(server, db, recorder, work_tmp):
    password = "Correct-Horse-7531"
    identity = server.new_identity()
    right = NssStore(db, runner=recorder, password=SecretStr(password))
    stored = right.install(identity.key, identity.cert, server.services.ca.chain(), FRIENDLY)
    assert right.find(stored.fingerprint).has_private_key
    assert password not in recorder.argv_text()

    for wrong in (NssStore(db, password=SecretStr("Battery-Staple-0000")), NssStore(db)):
        attempts = [
            lambda s=wrong: s.list(Profile()),
            lambda s=wrong: s.remove(stored.fingerprint),
            lambda s=wrong: s.install(identity.key, identity.cert, [], FRIENDLY),
        ]
        for attempt in attempts:
            with pytest.raises(EcmtError) as caught:
                attempt()
            assert caught.value.code is ErrorCode.STORE_WRONG_PASSWORD
            assert "Battery" not in str(caught.value)
    assert right.find(stored.fingerprint) is not None
    assert list(work_tmp.iterdir()) == []


def test_no_database_and_create_false(db):
    store = NssStore(db, create=False)
    assert not store.available()
    assert store.list(Profile()) == []
    assert store.find("ab" * 32) is None
    ca = MiniCA()
    with pytest.raises(EcmtError) as caught:
        store.install(ca.key, ca.issuing, [], FRIENDLY)
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE
    assert not db.exists()
    assert NssStore(db).available()


def test_missing_tools(db, monkeypatch):
    def absent(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        raise FileNotFoundError(argv[0])

    (db / "cert9.db").parent.mkdir()
    (db / "cert9.db").touch()
    with pytest.raises(EcmtError) as caught:
        NssStore(db, runner=absent).list(Profile())
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE
    monkeypatch.setenv("PATH", str(db))
    assert not NssStore(db).available()


@pytest.mark.skipif(sys.platform != "win32" and os.geteuid() == 0, reason="root writes anyway")
def test_read_only_database_needs_elevation(server, store, db):
    identity = server.new_identity()
    store.install(identity.key, identity.cert, [], FRIENDLY)
    assert not store.needs_elevation()
    modes = {path: path.stat().st_mode for path in [db, *db.iterdir()]}
    for path in modes:
        path.chmod(0o500 if path == db else 0o400)
    try:
        assert store.needs_elevation()
        other = server.new_identity()
        with pytest.raises(EcmtError) as caught:
            store.install(other.key, other.cert, [], FRIENDLY)
        assert caught.value.code is ErrorCode.STORE_ELEVATION_REQUIRED
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def test_error_mapping_from_the_tools_own_words():
    def code(tool: str, rc: int, stderr: str) -> ErrorCode:
        return failure(tool, "-x", rc, stderr.encode()).code

    bad_password = "certutil: could not authenticate: SEC_ERROR_BAD_PASSWORD: incorrect."
    assert code("certutil", 255, bad_password) is ErrorCode.STORE_WRONG_PASSWORD
    assert code("pk12util", 18, "PKCS12 decode not verified") is ErrorCode.STORE_WRONG_PASSWORD
    read_only = "pk12util: function failed: SEC_ERROR_READ_ONLY: read-only database."
    assert code("pk12util", 255, read_only) is ErrorCode.STORE_ELEVATION_REQUIRED
    assert code("certutil", 255, "SEC_ERROR_BAD_DATABASE") is ErrorCode.STORE_UNAVAILABLE
    assert code("certutil", 255, "Could not find cert: x") is ErrorCode.STORE_NOT_FOUND
    error = failure("certutil", "-F", 3, b"first\nsomething odd\n")
    assert error.code is ErrorCode.STORE_ERROR
    assert error.detail == "certutil -F rc=3: something odd"


def test_parsing_certutil_listings():
    listing = (
        b"\nCertificate Nickname                                         Trust Attributes\n"
        b"                                                             SSL,S/MIME,JAR/XPI\n\n"
        b"A very long nickname that is definitely longer than sixty characters, yes u,u,u\n"
        b"Dr Test Person                                               u,u,u\n"
        b"Test CA                                                      ,,   \n"
        b"trailing,u,u                                                 CT,C,C\n"
        b"NSS Certificate DB:ePractitioner: Dr X                       u,u,u\n"
        b"Dr Test Person                                               u,u,u\n"
    )
    assert parse_nicknames(listing) == [
        "A very long nickname that is definitely longer than sixty characters, yes",
        "Dr Test Person",
        "Test CA",
        "trailing,u,u",
        "NSS Certificate DB:ePractitioner: Dr X",
    ]
    keys = b"< 0> rsa      f382647967d76bae4fc46e40854f02e62989a3e0   Dr Test Person\n"
    assert parse_key_ids(b"certutil: Checking token\n" + keys) == {
        bytes.fromhex("f382647967d76bae4fc46e40854f02e62989a3e0")
    }
    assert cert_uri("Dr A;B", b"\x01\xab") == "pkcs11:object=Dr%20A%3BB;type=cert;id=%01%ab"
    assert cert_uri("NSS Certificate DB:x: y", b"\x02") == (
        "pkcs11:token=NSS%20Certificate%20DB;object=x%3A%20y;type=cert;id=%02"
    )
