"""Running NSS's certutil and pk12util: password files, error mapping, output parsing.

Passwords reach the tools only as files in a private temporary folder (`ps` shows argv),
and stdin is closed, so a tool that wants to prompt fails at once instead of hanging.
The folder is removed when the `Session` ends; it lives in $XDG_RUNTIME_DIR where there is
one (tmpfs, emptied at logout), so a killed process leaves no key material on disk, and its
name carries the process id, so the next session removes the folder of a killed one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import SecretStr

from ccms_protocol.files import write_atomic

from ..domain.errors import EcmtError, ErrorCode

Runner = Callable[..., "subprocess.CompletedProcess[bytes]"]
TOOLS = ("certutil", "pk12util")
TIMEOUT = 120
INTERNAL_TOKEN = "NSS Certificate DB"  # noqa: S105 - a token name
PK12_BAD_PASSWORD_RC = 18  # pk12util: the PKCS#12 file's password is wrong

_FOLDER = re.compile(r"ecmt-nss-(\d+)-[a-z0-9_]+")  # mkdtemp's suffix has no "-"
_TRUST = re.compile(r"[A-Za-z]*,[A-Za-z]*,[A-Za-z]*")
_KEY_LINE = re.compile(r"^<\s*\d+>\s+\S+\s+([0-9a-fA-F]+)\b")


def _remove_abandoned(parent: Path) -> None:
    """Session folders of processes that are gone (killed mid-import, a PKCS#12 and its
    password may be inside). POSIX only: Windows has no harmless way to ask if a process
    id is alive (os.kill would end it)."""
    if os.name != "posix":
        return
    for folder in parent.glob("ecmt-nss-*"):
        match = _FOLDER.fullmatch(folder.name)
        try:
            ours = folder.is_dir() and folder.stat().st_uid == os.getuid()
        except OSError:
            continue
        if match and ours and not _alive(int(match.group(1))):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: alive
        return True
    return True


@dataclass(frozen=True)
class Session:
    """A private folder for one operation's files; `db_password` is always present."""

    folder: Path
    db_password: Path

    def write(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        write_atomic(path, data, 0o600, replace=False)
        return path


class NssTool:
    """certutil/pk12util against one `sql:` database, failures as `EcmtError`."""

    def __init__(self, directory: Path, password: SecretStr | None, runner: Runner) -> None:
        self.db = f"sql:{directory}"
        self._password = password
        self._runner = runner

    @staticmethod
    def installed() -> bool:
        return all(shutil.which(tool) for tool in TOOLS)

    @contextmanager
    def session(self) -> Iterator[Session]:
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        parent = runtime if runtime and Path(runtime).is_dir() else None
        _remove_abandoned(Path(parent or tempfile.gettempdir()))
        folder = Path(tempfile.mkdtemp(prefix=f"ecmt-nss-{os.getpid()}-", dir=parent))  # 0700
        try:
            secret = self._password.get_secret_value() if self._password else ""
            session = Session(folder, folder / "db.pw")
            session.write("db.pw", secret.encode("utf-8"))  # empty file: empty password
            yield session
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @property
    def has_password(self) -> bool:
        return bool(self._password and self._password.get_secret_value())

    def certutil(self, *args: str) -> bytes:
        return self._run("certutil", args)

    def import_p12(self, session: Session, p12: Path, p12_password: Path) -> None:
        db_pw = str(session.db_password)
        self.pk12util("-i", str(p12), "-d", self.db, "-k", db_pw, "-w", str(p12_password))

    def export_p12(self, session: Session, name: str, out: Path, p12_password: Path) -> None:
        """`name` must select one certificate: pk12util exports every match, with keys."""
        db_pw = str(session.db_password)
        self.pk12util(
            "-o", str(out), "-n", name, "-d", self.db, "-k", db_pw, "-w", str(p12_password)
        )

    def delete(self, session: Session, name: str, with_key: bool) -> None:
        """`-F` removes certificate and key; `-D` the certificate (`-F` ignores keyless ones)."""
        option = "-F" if with_key else "-D"
        self.certutil(option, "-d", self.db, "-n", name, "-f", str(session.db_password))

    def key_ids(self, session: Session) -> set[bytes]:
        """CKA_IDs of the keys in the database (needs the database password)."""
        try:
            return parse_key_ids(self.certutil("-K", "-d", self.db, "-f", str(session.db_password)))
        except EcmtError as exc:
            if exc.code is ErrorCode.STORE_ERROR and "no keys found" in (exc.detail or ""):
                return set()
            raise

    def pk12util(self, *args: str) -> bytes:
        return self._run("pk12util", args)

    def _run(self, tool: str, args: tuple[str, ...]) -> bytes:
        options: dict[str, Any] = {"stdin": subprocess.DEVNULL, "capture_output": True}
        try:
            done = self._runner([tool, *args], check=False, timeout=TIMEOUT, **options)
        except FileNotFoundError:
            raise EcmtError(ErrorCode.STORE_UNAVAILABLE, f"{tool} is not installed") from None
        except subprocess.TimeoutExpired:
            raise EcmtError(ErrorCode.STORE_ERROR, f"{tool} {args[0]} timed out") from None
        if done.returncode != 0:
            raise failure(tool, args[0], done.returncode, done.stderr or b"", done.stdout or b"")
        return bytes(done.stdout or b"")


def failure(tool: str, operation: str, rc: int, stderr: bytes, stdout: bytes = b"") -> EcmtError:
    """The STORE_* code for a failed run; detail names the tool, rc and its last words
    (stderr's, else stdout's: `certutil -K` says "no keys found" on stdout)."""
    text = stderr.decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        text = stdout.decode("utf-8", "replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
    detail = f"{tool} {operation} rc={rc}: {lines[-1][:200] if lines else 'no message'}"
    if "SEC_ERROR_BAD_PASSWORD" in text or (tool == "pk12util" and rc == PK12_BAD_PASSWORD_RC):
        return EcmtError(ErrorCode.STORE_WRONG_PASSWORD, detail)
    if "SEC_ERROR_READ_ONLY" in text or "PR_NO_ACCESS_RIGHTS_ERROR" in text:
        return EcmtError(ErrorCode.STORE_ELEVATION_REQUIRED, detail)
    if "SEC_ERROR_BAD_DATABASE" in text:
        return EcmtError(ErrorCode.STORE_UNAVAILABLE, detail)
    if "Could not find cert" in text or "SEC_ERROR_UNKNOWN_CERT" in text:
        return EcmtError(ErrorCode.STORE_NOT_FOUND, detail)
    return EcmtError(ErrorCode.STORE_ERROR, detail)


def parse_nicknames(listing: bytes) -> list[str]:
    """Nicknames from `certutil -L`: a left-aligned name (may hold spaces), then trust flags.

    Undecodable bytes survive as surrogates, so a nickname goes back to certutil unchanged.
    """
    names: list[str] = []
    for line in listing.decode("utf-8", "surrogateescape").splitlines():
        parts = line.rstrip().rsplit(None, 1)
        if len(parts) == 2 and _TRUST.fullmatch(parts[1]) and parts[0] not in names:
            names.append(parts[0])
    return names


def parse_key_ids(listing: bytes) -> set[bytes]:
    """CKA_IDs of the private keys in `certutil -K` output."""
    ids = set()
    for line in listing.decode("utf-8", "replace").splitlines():
        match = _KEY_LINE.match(line)
        if match and len(match.group(1)) % 2 == 0:
            ids.add(bytes.fromhex(match.group(1)))
    return ids


def parse_pem(data: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise EcmtError(ErrorCode.STORE_ERROR, f"certutil printed no certificate: {exc}") from None


def key_id(cert: x509.Certificate) -> bytes | None:
    """The CKA_ID NSS gives a key pair and its certificate (PK11_MakeIDFromPubKey).

    SHA-1 of the RSA modulus (unsigned, no leading zero) or of the EC point; checked
    against `certutil -K` on NSS 3.87. None for key types we do not issue.
    """
    public = cert.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        modulus = public.public_numbers().n
        raw = modulus.to_bytes((modulus.bit_length() + 7) // 8, "big")
    elif isinstance(public, ec.EllipticCurvePublicKey):
        raw = public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    else:
        return None
    digest = hashes.Hash(hashes.SHA1())  # noqa: S303 - NSS's own naming scheme, not security
    digest.update(raw)
    return digest.finalize()


def cert_uri(nickname: str, cka_id: bytes) -> str:
    """A PKCS#11 URI naming exactly one certificate object: label and key id.

    certutil and pk12util accept it wherever they take `-n`. A nickname listed as
    "token:label" (other tokens, or labels holding a colon) names the token too.
    """
    token, sep, label = nickname.partition(":")
    parts = [f"token={_pct(token.encode())}"] if sep else []
    label_bytes = (label if sep else nickname).encode("utf-8", "surrogateescape")
    parts += [
        f"object={_pct(label_bytes)}",
        "type=cert",
        "id=" + "".join(f"%{b:02x}" for b in cka_id),
    ]
    return "pkcs11:" + ";".join(parts)


def _pct(value: bytes) -> str:
    return quote(value, safe="")


def display_label(nickname: str) -> str:
    """The nickname without the internal token's prefix certutil adds to labels with ':'."""
    prefix = INTERNAL_TOKEN + ":"
    return nickname[len(prefix) :] if nickname.startswith(prefix) else nickname
