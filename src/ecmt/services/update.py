"""Download and install a newer version of this program, as the signed manifest offers it.

Only a `ReleaseDecision` starts a download, and only `ReleaseCheck` makes one, after the
manifest's signature, expiry and serial have checked; the package must then match the
manifest's SHA-256 and size to the byte, or it is deleted (ECMT-UPDATE-TAMPERED) and
nothing runs. It is kept in a private temporary folder until the installer takes it.

Installing is the operating system's installer: msiexec, elevated through UAC, on
Windows (then this program closes, so the files can be replaced); the disk image opened
in Finder on macOS; on Linux the package is left where the user is told.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, Protocol

from ccms_protocol.wire import ReleaseArtifact

from ..domain.errors import EcmtError, ErrorCode
from .environment import ERROR_CANCELLED, SW_SHOWNORMAL, Shell32, _load_shell32
from .release import ReleaseDecision

log = logging.getLogger(__name__)
_KIND = re.compile(r"[a-z0-9]+(\.[a-z0-9]+)?")
_VERSION = re.compile(r"[0-9A-Za-z.+-]{1,40}")


class Fetch(Protocol):
    """ccms.download.download with the settings bound: body of `url` into `target`."""

    def __call__(
        self,
        url: str,
        target: BinaryIO,
        *,
        size: int,
        progress: Callable[[int, int], None] | None,
        cancel: threading.Event | None,
    ) -> int: ...


@dataclass(frozen=True)
class UpdatePackage:
    path: Path
    artifact: ReleaseArtifact
    version: str

    def discard(self) -> None:
        shutil.rmtree(self.path.parent, ignore_errors=True)


class LaunchOutcome(StrEnum):
    STARTED = "started"  # the installer runs: this program should close
    OPENED = "opened"  # macOS: the disk image is open in Finder
    SAVED = "saved"  # Linux: the package waits where `path` says
    CANCELLED = "cancelled"  # the user said No to the administrator prompt


@dataclass(frozen=True)
class LaunchResult:
    outcome: LaunchOutcome
    path: Path


def package_name(decision: ReleaseDecision, artifact: ReleaseArtifact) -> str:
    """Our own file name, never one from the network: "ecmt-5.1.0-windows-x64.msi"."""
    if not _KIND.fullmatch(artifact.kind) or not _VERSION.fullmatch(decision.latest_version):
        raise EcmtError(ErrorCode.RELEASE_UNVERIFIED, f"unusable package kind {artifact.kind!r}")
    platform = re.sub(r"[^a-z0-9-]", "", artifact.platform.lower()) or "package"
    return f"ecmt-{decision.latest_version}-{platform}.{artifact.kind}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def download_update(
    decision: ReleaseDecision,
    fetch: Fetch,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    parent: Path | None = None,
) -> UpdatePackage:
    """The package for this platform, checked against the signed manifest. Any failure
    (network, cancel, a wrong byte) leaves nothing behind."""
    artifact = decision.artifact
    if decision.verdict == "fine" or artifact is None:
        raise EcmtError(ErrorCode.RELEASE_UNVERIFIED, "the manifest offers no package for this")
    folder = Path(tempfile.mkdtemp(prefix="ecmt-update-", dir=parent))  # 0700: ours alone
    path = folder / package_name(decision, artifact)
    try:
        with path.open("xb") as handle:
            fetch(artifact.url, handle, size=artifact.size, progress=progress, cancel=cancel)
            handle.flush()
            os.fsync(handle.fileno())
        size = path.stat().st_size
        digest = sha256_of(path)  # what is on disk, which is what the installer will read
        if size != artifact.size or digest != artifact.sha256:
            raise EcmtError(
                ErrorCode.UPDATE_TAMPERED,
                f"{artifact.url}: {size} bytes with SHA-256 {digest}; the signed manifest says "
                f"{artifact.size} bytes with SHA-256 {artifact.sha256}",
            )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    log.info("update %s downloaded and verified: %s", decision.latest_version, path)
    return UpdatePackage(path, artifact, decision.latest_version)


def msiexec_command(package: Path) -> tuple[str, str]:
    """(file, parameters) for ShellExecuteW: a normal interactive install with a log."""
    log_file = package.with_suffix(".log")
    return "msiexec.exe", subprocess.list2cmdline(["/i", str(package), "/l*v", str(log_file)])


def launch_update(
    package: UpdatePackage,
    *,
    platform: str = sys.platform,
    shell32: Shell32 | None = None,
    last_error: Callable[[], int] | None = None,
    run: Callable[[Sequence[str]], object] | None = None,
) -> LaunchResult:
    """Hand the verified package to the operating system's installer."""
    kind = package.artifact.kind
    if platform == "win32" and kind == "msi":
        if shell32 is None:
            shell32, last_error = _load_shell32()
        file, params = msiexec_command(package.path)
        code = int(shell32.ShellExecuteW(None, "runas", file, params, None, SW_SHOWNORMAL) or 0)
        if code > 32:
            return LaunchResult(LaunchOutcome.STARTED, package.path)
        error = last_error() if last_error is not None else 0
        if error == ERROR_CANCELLED:
            return LaunchResult(LaunchOutcome.CANCELLED, package.path)
        raise EcmtError(
            ErrorCode.UPDATE_NOT_STARTED, f"ShellExecuteW runas msiexec: {code}, error {error}"
        )
    if platform == "darwin" and kind == "dmg":
        runner = run or (lambda argv: subprocess.run(argv, check=True, timeout=60))
        try:
            runner(["open", str(package.path)])
        except (OSError, subprocess.SubprocessError) as exc:
            raise EcmtError(ErrorCode.UPDATE_NOT_STARTED, f"open: {exc}") from None
        return LaunchResult(LaunchOutcome.OPENED, package.path)
    return LaunchResult(LaunchOutcome.SAVED, package.path)
