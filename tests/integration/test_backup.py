"""Backups of a certificate the real CA issued, opened by OpenSSL and imported by NSS.

Passwords reach openssl and pk12util through 0600 files, never argv. Every test checks
that the folder holds exactly the files it should: no staging file is ever left behind.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from ecmt import pkcs12
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import BackupFormat, ClientIdentity, common_name_of
from ecmt.services import backup
from ecmt.services.backup import BackupStage, backup_path, write_backup
from support import require_tool, rsa_key

PASSWORD = "Zebra-Quartz-77"
ALGORITHMS = {  # what `openssl pkcs12 -info` prints for each format (OpenSSL 3.0)
    BackupFormat.LEGACY: ("MAC: sha1", "pbeWithSHA1And3-KeyTripleDES-CBC"),
    BackupFormat.MODERN: ("MAC: sha256", "PBES2, PBKDF2, AES-256-CBC"),
}


@pytest.fixture
def identity(server) -> ClientIdentity:
    issued = server.new_identity()
    return ClientIdentity(issued.cert, issued.key, tuple(server.services.ca.chain()))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "backups"
    path.mkdir()
    return path


def _secret_file(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.touch(mode=0o600)
    path.write_text(text, encoding="utf-8")
    return path


def _save(identity: ClientIdentity, folder: Path, **kwargs: object) -> backup.BackupResult:
    args: dict[str, object] = {
        "file_name": "backup",
        "password": SecretStr(PASSWORD),
        "confirmation": SecretStr(PASSWORD),
        "fmt": BackupFormat.LEGACY,
        **kwargs,
    }
    return write_backup(identity, folder, **args)  # type: ignore[arg-type]


def _fails(code: ErrorCode, identity: ClientIdentity, folder: Path, **kwargs: object) -> EcmtError:
    with pytest.raises(EcmtError) as caught:
        _save(identity, folder, **kwargs)
    assert caught.value.code is code, caught.value
    return caught.value


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def _openssl_info(path: Path, password_file: Path) -> subprocess.CompletedProcess[str]:
    openssl = require_tool("openssl")
    return subprocess.run(
        [
            openssl,
            "pkcs12",
            "-in",
            str(path),
            "-info",
            "-noout",
            "-passin",
            f"file:{password_file}",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _nss_import(path: Path, password_file: Path, work: Path) -> tuple[int, str]:
    """Import into a fresh empty-password NSS DB; the return code and `certutil -L`."""
    pk12util, certutil = require_tool("pk12util"), require_tool("certutil")
    db = work / "nssdb"
    db.mkdir()
    run = {"capture_output": True, "text": True, "stdin": subprocess.DEVNULL, "check": False}
    created = subprocess.run([certutil, "-N", "-d", f"sql:{db}", "--empty-password"], **run)
    assert created.returncode == 0, created.stderr
    empty = _secret_file(work, "dbpw", "")
    args = ["-i", str(path), "-d", f"sql:{db}", "-k", str(empty), "-w", str(password_file)]
    imported = subprocess.run([pk12util, *args], **run)
    listed = subprocess.run([certutil, "-L", "-d", f"sql:{db}"], **run)
    assert listed.returncode == 0, listed.stderr
    return imported.returncode, listed.stdout


@pytest.mark.parametrize("fmt", list(BackupFormat))
@pytest.mark.parametrize("password", [PASSWORD, "ÉCOLE123a"])
def test_backup_opens_in_openssl_and_nss(
    identity: ClientIdentity, folder: Path, tmp_path: Path, fmt: BackupFormat, password: str
) -> None:
    secret = SecretStr(password)
    result = _save(identity, folder, fmt=fmt, password=secret, confirmation=secret)

    assert result.path == folder / "backup.p12"
    assert result.format is fmt
    assert _names(folder) == {"backup.p12"}
    data = result.path.read_bytes()
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.path.stat().st_mode & 0o777 == 0o600
    assert result.friendly_name == common_name_of(identity.certificate) + " (ePractitioner)"

    if fmt is BackupFormat.LEGACY:  # 3DES + SHA-1 MAC, no PBES2
        assert pkcs12.OID_PBE_SHA1_3DES in data
        assert pkcs12.OID_SHA1 in data
        assert pkcs12.OID_PBES2 not in data
    else:  # PBES2 + AES-256, SHA-256 MAC
        assert pkcs12.OID_PBES2 in data
        assert pkcs12.OID_AES256_CBC in data
        assert pkcs12.OID_SHA1 not in data
        assert pkcs12.OID_PBE_SHA1_3DES not in data

    # measured on Debian 12 (OpenSSL 3.0): 3DES is in the default provider, so neither
    # format needs `-legacy` (only RC2/RC4/single-DES files would)
    password_file = _secret_file(tmp_path, "p12pw", password)
    info = _openssl_info(result.path, password_file)
    assert info.returncode == 0, info.stderr
    for marker in ALGORITHMS[fmt]:
        assert marker in info.stdout + info.stderr

    rc, listing = _nss_import(result.path, password_file, tmp_path)
    assert rc == 0
    assert result.friendly_name in listing

    opened = pkcs12.open_(data, password.encode())
    assert opened.key.private_numbers() == identity.key.private_numbers()
    assert opened.certificate == identity.certificate
    assert opened.chain == identity.chain
    assert opened.friendly_name == result.friendly_name


@pytest.mark.parametrize("fmt", list(BackupFormat))
def test_wrong_password_is_refused(
    identity: ClientIdentity, folder: Path, tmp_path: Path, fmt: BackupFormat
) -> None:
    result = _save(identity, folder, fmt=fmt)
    wrong = _secret_file(tmp_path, "wrongpw", "Zebra-Quartz-78")
    assert _openssl_info(result.path, wrong).returncode != 0
    rc, listing = _nss_import(result.path, wrong, tmp_path)
    assert rc == 18  # SEC_ERROR_BAD_PASSWORD
    assert result.friendly_name not in listing
    with pytest.raises(EcmtError) as caught:
        pkcs12.open_(result.path.read_bytes(), b"Zebra-Quartz-78")
    assert caught.value.code is ErrorCode.STORE_WRONG_PASSWORD


def test_file_names(tmp_path: Path) -> None:
    assert backup_path(tmp_path, "my backup") == tmp_path / "my backup.p12"
    assert backup_path(tmp_path, " Dr A. Smith ") == tmp_path / "Dr A. Smith.p12"
    assert backup_path(tmp_path, "cert.PFX") == tmp_path / "cert.PFX"
    assert backup_path(tmp_path, "cert.p12") == tmp_path / "cert.p12"
    for bad in ("", "  ", ".", "..", "../evil", "a/b", "a\\b", "C:evil", "nul\0"):
        with pytest.raises(EcmtError) as caught:
            backup_path(tmp_path, bad)
        assert caught.value.code is ErrorCode.BACKUP_NAME_INVALID


def test_name_with_a_folder_writes_nothing(identity: ClientIdentity, folder: Path) -> None:
    _fails(ErrorCode.BACKUP_NAME_INVALID, identity, folder, file_name="../escape")
    assert _names(folder) == set()
    assert not (folder.parent / "escape.p12").exists()


def test_existing_file_is_kept_without_consent(identity: ClientIdentity, folder: Path) -> None:
    (folder / "backup.p12").write_bytes(b"the old backup")
    _fails(ErrorCode.BACKUP_EXISTS, identity, folder)
    assert (folder / "backup.p12").read_bytes() == b"the old backup"
    assert _names(folder) == {"backup.p12"}


@pytest.mark.posix
def test_existing_file_is_replaced_with_consent(identity: ClientIdentity, folder: Path) -> None:
    (folder / "backup.p12").write_bytes(b"the old backup")
    result = _save(identity, folder, overwrite=True)
    assert result.path.read_bytes() != b"the old backup"
    pkcs12.open_(result.path.read_bytes(), PASSWORD.encode())
    assert result.path.stat().st_mode & 0o777 == 0o600
    assert _names(folder) == {"backup.p12"}


def test_a_file_appearing_during_the_write_is_not_overwritten(
    identity: ClientIdentity, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The early exists() check is only a courtesy: publishing itself refuses to overwrite."""
    real_verify = backup._verify

    def verify_then_race(staging: Path, *args: object) -> None:
        real_verify(staging, *args)  # type: ignore[arg-type]
        (folder / "backup.p12").write_bytes(b"written meanwhile")

    monkeypatch.setattr(backup, "_verify", verify_then_race)
    _fails(ErrorCode.BACKUP_EXISTS, identity, folder)
    assert (folder / "backup.p12").read_bytes() == b"written meanwhile"
    assert _names(folder) == {"backup.p12"}


@pytest.mark.parametrize("present", [False, True])
def test_without_hard_links_rename_still_refuses_to_overwrite(
    identity: ClientIdentity, folder: Path, monkeypatch: pytest.MonkeyPatch, present: bool
) -> None:
    """FAT/exFAT USB sticks have no hard links: link() fails with EPERM there."""

    def no_links(self: Path, target: Path) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(Path, "hardlink_to", no_links)
    real_verify = backup._verify

    def verify_then_race(staging: Path, *args: object) -> None:
        real_verify(staging, *args)  # type: ignore[arg-type]
        if present:
            (folder / "backup.p12").write_bytes(b"written meanwhile")

    monkeypatch.setattr(backup, "_verify", verify_then_race)
    if present:
        _fails(ErrorCode.BACKUP_EXISTS, identity, folder)
        assert (folder / "backup.p12").read_bytes() == b"written meanwhile"
    else:
        result = _save(identity, folder)
        pkcs12.open_(result.path.read_bytes(), PASSWORD.encode())
    assert _names(folder) == {"backup.p12"}


def test_weak_password_writes_nothing(identity: ClientIdentity, folder: Path) -> None:
    weak = SecretStr("zebraquartz")
    error = _fails(
        ErrorCode.BACKUP_PASSWORD_POLICY, identity, folder, password=weak, confirmation=weak
    )
    assert error.detail == "unmet: upper, digit"
    assert _names(folder) == set()


def test_mismatched_confirmation_writes_nothing(identity: ClientIdentity, folder: Path) -> None:
    other = SecretStr("Zebra-Quartz-78")
    _fails(ErrorCode.BACKUP_PASSWORD_MISMATCH, identity, folder, confirmation=other)
    assert _names(folder) == set()


def test_folder_that_cannot_exist(identity: ClientIdentity, folder: Path) -> None:
    """A regular file where the folder should be: fails even for root."""
    (folder / "afile").write_bytes(b"")
    error = _fails(ErrorCode.BACKUP_WRITE_FAILED, identity, folder / "afile" / "sub")
    assert error.detail == f"Not a directory (errno {errno.ENOTDIR})"
    assert _names(folder) == {"afile"}


@pytest.mark.posix
@pytest.mark.skipif(
    sys.platform != "win32" and os.geteuid() == 0, reason="root writes to a read-only folder anyway"
)
def test_read_only_folder(identity: ClientIdentity, folder: Path) -> None:
    folder.chmod(0o500)
    try:
        error = _fails(ErrorCode.BACKUP_WRITE_FAILED, identity, folder)
    finally:
        folder.chmod(0o700)
    assert f"errno {errno.EACCES}" in (error.detail or "")
    assert _names(folder) == set()


def test_missing_folder_is_created(identity: ClientIdentity, tmp_path: Path) -> None:
    result = _save(identity, tmp_path / "advised" / "by board")
    assert _names(result.path.parent) == {"backup.p12"}


_real_open, _real_build = pkcs12.open_, pkcs12.build


def _open_fails(data: bytes, password: bytes) -> pkcs12.Opened:
    raise EcmtError(ErrorCode.STORE_WRONG_PASSWORD, "forced")


def _open_with_another_key(data: bytes, password: bytes) -> pkcs12.Opened:
    opened = _real_open(data, password)
    return pkcs12.Opened(rsa_key(), opened.certificate, opened.chain, opened.friendly_name)


def _corrupt_build(*args: object) -> bytes:
    data = bytearray(_real_build(*args))  # type: ignore[arg-type]
    data[len(data) // 2] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize(
    ("target", "fake", "detail"),
    [
        ("open_", _open_fails, "did not open"),
        ("open_", _open_with_another_key, "differs: key"),
        ("build", _corrupt_build, "did not open"),
    ],
)
@pytest.mark.parametrize("existing", [False, True])
def test_failed_verification_leaves_no_file_and_keeps_the_old_one(
    identity: ClientIdentity,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    target: str,
    fake: object,
    detail: str,
    existing: bool,
) -> None:
    monkeypatch.setattr(pkcs12, target, fake)
    if existing:
        (folder / "backup.p12").write_bytes(b"the old backup")
    error = _fails(ErrorCode.BACKUP_NOT_VERIFIED, identity, folder, overwrite=existing)
    assert (error.detail or "").startswith(detail)
    if existing:
        assert (folder / "backup.p12").read_bytes() == b"the old backup"
        assert _names(folder) == {"backup.p12"}
    else:
        assert _names(folder) == set()


def test_key_of_another_certificate_is_refused(identity: ClientIdentity, folder: Path) -> None:
    stranger = ClientIdentity(identity.certificate, rsa_key(), identity.chain)
    _fails(ErrorCode.BACKUP_NO_KEY, identity=stranger, folder=folder)
    assert _names(folder) == set()


def test_progress_and_cancel(identity: ClientIdentity, folder: Path) -> None:
    stages: list[BackupStage] = []
    _save(identity, folder, progress=stages.append, friendly_name="My card")
    assert stages == list(BackupStage)
    assert pkcs12.open_((folder / "backup.p12").read_bytes(), PASSWORD.encode()).friendly_name == (
        "My card"
    )

    cancel = threading.Event()
    cancel.set()
    _fails(ErrorCode.CANCELLED, identity, folder, file_name="second", cancel=cancel)
    assert _names(folder) == {"backup.p12"}


def test_password_never_in_errors_or_logs(
    identity: ClientIdentity,
    folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[EcmtError] = []

    def attempt(where: Path = folder, **kwargs: object) -> None:
        try:
            _save(identity, where, **kwargs)
        except EcmtError as exc:
            errors.append(exc)

    weak = SecretStr("zebra-quartz")  # contains "Zebra-Quartz"'s letters, not the password
    attempt(password=weak, confirmation=weak)
    attempt(confirmation=SecretStr(PASSWORD + "x"))
    attempt()  # succeeds: the log line must still not hold it
    attempt()  # exists
    (tmp_path / "afile").write_bytes(b"")
    attempt(tmp_path / "afile" / "sub")
    monkeypatch.setattr(pkcs12, "open_", _open_fails)
    attempt(file_name="other", overwrite=True)

    assert [e.code for e in errors] == [
        ErrorCode.BACKUP_PASSWORD_POLICY,
        ErrorCode.BACKUP_PASSWORD_MISMATCH,
        ErrorCode.BACKUP_EXISTS,
        ErrorCode.BACKUP_WRITE_FAILED,
        ErrorCode.BACKUP_NOT_VERIFIED,
    ]
    texts = [caplog.text]
    for error in errors:
        chained: BaseException | None = error
        while chained is not None:
            texts += [str(chained), repr(chained), repr(chained.args)]
            chained = chained.__cause__ or chained.__context__
    for secret in (PASSWORD, "zebra-quartz", PASSWORD.encode().hex()):
        assert not any(secret in text for text in texts), secret
    assert "backup saved" in caplog.text
    assert _names(folder) == {"backup.p12"}
