"""Save the certificate and its key as a PKCS#12 backup that is known to open (step R-7).

The app says "backed up" only after the file on disk was read back with the user's
password and found to hold this key, certificate and chain. To get there without ever
destroying a good file, the bytes go to a hidden staging name in the destination folder
(written atomically, 0600), are verified there, and only then move to the chosen name:
by hard link when the user did not agree to replace a file (so an existing one is never
overwritten, even by a race), by rename when they did. A failed write or check removes
the staging file and leaves any earlier backup untouched. The password never reaches a
log line, an exception or a file other than the encrypted backup itself.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import SecretStr

from ccms_protocol.files import fsync_dir, write_atomic

from .. import pkcs12
from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import BackupFormat, ClientIdentity, common_name_of
from ..domain.password_policy import check_pair

log = logging.getLogger(__name__)
T = TypeVar("T")

SUFFIXES = (".p12", ".pfx")
_NOT_IN_NAMES = frozenset("/\\:\0")  # folders on any OS, Windows drives and streams
# link() fails with these where the file system has no hard links (FAT/exFAT USB sticks)
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK}


class BackupStage(StrEnum):
    CHECKING = "checking the password"
    BUILDING = "building the backup"
    WRITING = "writing the file"
    VERIFYING = "reading the backup back"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    format: BackupFormat
    size: int
    sha256: str
    friendly_name: str


def default_friendly_name(certificate: x509.Certificate) -> str:
    """The name stores show (Windows "Friendly name", the NSS nickname)."""
    return f"{common_name_of(certificate)} (ePractitioner)"


def backup_path(folder: Path, file_name: str) -> Path:
    """`folder / file_name`, with ".p12" added unless it ends in .p12/.pfx.

    Raises BACKUP_WRITE_FAILED for a name that is empty or would leave the folder.
    """
    name = file_name.strip()
    if name in {"", ".", ".."} or _NOT_IN_NAMES & set(name):
        raise EcmtError(ErrorCode.BACKUP_NAME_INVALID, "file name must be a plain name")
    if Path(name).suffix.lower() not in SUFFIXES:
        name += SUFFIXES[0]
    return folder / name


def write_backup(
    identity: ClientIdentity,
    folder: Path,
    file_name: str,
    password: SecretStr,
    confirmation: SecretStr,
    fmt: BackupFormat,
    *,
    overwrite: bool = False,
    friendly_name: str | None = None,
    progress: Callable[[BackupStage], None] | None = None,
    cancel: threading.Event | None = None,
) -> BackupResult:
    """Write, verify and publish the backup; raises EcmtError with a BACKUP_* code.

    `overwrite` is the user's explicit answer to "replace the existing file?". A missing
    folder is created (a Board's advised folder may not exist yet).
    """
    report = progress or (lambda stage: None)
    path = backup_path(folder, file_name)
    report(BackupStage.CHECKING)
    check_pair(password.get_secret_value(), confirmation.get_secret_value())
    _require_matching_key(identity)
    if not overwrite and (path.exists() or path.is_symlink()):
        raise EcmtError(ErrorCode.BACKUP_EXISTS, path.name)  # early; _publish is the guard
    name = friendly_name or default_friendly_name(identity.certificate)
    secret = password.get_secret_value().encode("utf-8")

    report(BackupStage.BUILDING)
    data = pkcs12.build(identity.key, identity.certificate, identity.chain, name, secret, fmt)
    _stop_if_cancelled(cancel)

    staging = path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")
    report(BackupStage.WRITING)
    _guard_os(lambda: write_atomic(staging, data, 0o600))  # leaves nothing if it fails
    try:
        report(BackupStage.VERIFYING)
        _verify(staging, data, identity, name, secret)
        _stop_if_cancelled(cancel)
        _publish(staging, path, overwrite)
    finally:
        _remove(staging)

    digest = hashlib.sha256(data).hexdigest()
    log.info("backup saved to %s (%s, %d bytes, sha256 %s)", path, fmt, len(data), digest)
    return BackupResult(path, fmt, len(data), digest, name)


def _require_matching_key(identity: ClientIdentity) -> None:
    spki = Encoding.DER, PublicFormat.SubjectPublicKeyInfo
    ours = identity.key.public_key().public_bytes(*spki)
    if ours != identity.certificate.public_key().public_bytes(*spki):
        raise EcmtError(ErrorCode.BACKUP_NO_KEY, "the key does not belong to the certificate")


def _verify(staging: Path, data: bytes, identity: ClientIdentity, name: str, secret: bytes) -> None:
    """Read the file back from disk and open it as a user would; compare every part."""
    on_disk = _guard_os(staging.read_bytes)
    if on_disk != data:
        raise EcmtError(ErrorCode.BACKUP_NOT_VERIFIED, "the file on disk differs")
    try:
        opened = pkcs12.open_(on_disk, secret)
    except EcmtError as exc:
        raise EcmtError(ErrorCode.BACKUP_NOT_VERIFIED, f"did not open ({exc.code})") from None

    def der(certs: tuple[x509.Certificate, ...]) -> list[bytes]:
        return [c.public_bytes(Encoding.DER) for c in certs]

    checks = {
        "key": opened.key.private_numbers() == identity.key.private_numbers(),
        "certificate": der((opened.certificate,)) == der((identity.certificate,)),
        "chain": der(opened.chain) == der(identity.chain),
        "friendly name": opened.friendly_name == name,
    }
    wrong = [part for part, same in checks.items() if not same]
    if wrong:
        raise EcmtError(ErrorCode.BACKUP_NOT_VERIFIED, "differs: " + ", ".join(wrong))


def _publish(staging: Path, path: Path, overwrite: bool) -> None:
    if overwrite:
        _guard_os(lambda: staging.replace(path))
    else:
        try:
            path.hardlink_to(staging)  # refuses to overwrite, atomically
        except FileExistsError:
            raise EcmtError(ErrorCode.BACKUP_EXISTS, path.name) from None
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise _write_failed(exc) from None
            _rename_if_absent(staging, path)
    fsync_dir(path.parent)


def _rename_if_absent(staging: Path, path: Path) -> None:
    """Without hard links: Windows' rename refuses to overwrite; POSIX checks first."""
    if os.name != "nt" and (path.exists() or path.is_symlink()):
        raise EcmtError(ErrorCode.BACKUP_EXISTS, path.name)
    try:
        staging.rename(path)
    except FileExistsError:
        raise EcmtError(ErrorCode.BACKUP_EXISTS, path.name) from None
    except OSError as exc:
        raise _write_failed(exc) from None


def _guard_os(action: Callable[[], T]) -> T:
    try:
        return action()
    except OSError as exc:
        raise _write_failed(exc) from None


def _write_failed(exc: OSError) -> EcmtError:
    reason = exc.strerror or type(exc).__name__
    return EcmtError(ErrorCode.BACKUP_WRITE_FAILED, f"{reason} (errno {exc.errno})")


def _remove(staging: Path) -> None:
    try:
        staging.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not remove the staging file %s: %s", staging, exc.strerror)


def _stop_if_cancelled(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise EcmtError(ErrorCode.CANCELLED, "backup cancelled; nothing was saved")
