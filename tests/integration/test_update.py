"""Self-update end to end: `ccms-server release sign` and `release publish --artifact-file`
on the real server, the manifest checked by the client, the package downloaded over real
TLS, checked against the signed SHA-256 and size, and handed to a fake launcher that
records the operating system call it would make."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ccms_server import cli as server_cli
from ecmt.ccms.api import ApiClient
from ecmt.ccms.download import download
from ecmt.ccms.transport import Transport
from ecmt.config import EcmtSettings, ReleaseKey, load_settings
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.services.release import ReleaseCheck, ReleaseDecision
from ecmt.services.update import LaunchOutcome, download_update, launch_update
from support import Harness

NAME = "ecmt-5.1.0-windows-x64.msi"


@dataclass
class FakeShell32:
    """Records ShellExecuteW as Windows would receive it; answers like UAC would."""

    answer: int = 42  # > 32: started
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def IsUserAnAdmin(self) -> int:
        return 0

    def ShellExecuteW(
        self, hwnd: None, verb: str, file: str, params: str, directory: None, show: int
    ) -> int:
        self.calls.append((hwnd, verb, file, params, directory, show))
        return self.answer


def package_bytes(size: int = 300_000) -> bytes:
    return os.urandom(size)


def sign_and_publish(
    server: Harness, folder: Path, package: Path, *, serial: int, sha256: str | None = None
) -> None:
    """As an operator does it: sign with the data folder's key, publish with the file."""
    data = package.read_bytes()
    digest = sha256 or hashlib.sha256(data).hexdigest()
    url = f"{server.url}/ccms/v1/releases/{package.name}"
    manifest = folder / f"manifest-{serial}.json"
    args = ["--data-dir", str(server.data_dir)]
    sign = ["release", "sign", *args, "--latest-version", "5.1.0", "--minimum-version", "5.0.0",
            "--install-page", "https://example.invalid/install.html", "--serial", str(serial),
            "--artifact", f"windows-x64,msi,{url},{digest},{len(data)}",
            "--artifact", f"macos-arm64,dmg,{url},{digest},{len(data)}",
            "--out", str(manifest)]  # fmt: skip
    assert server_cli.main(sign) == 0
    files = [] if sha256 else ["--artifact-file", str(package)]
    assert server_cli.main(["release", "publish", *args, str(manifest), *files]) == 0


def client(server: Harness, tmp_path: Path) -> EcmtSettings:
    keys = json.loads(server.services.paths.release_public_key.read_text())["keys"]
    return load_settings(
        files=[],
        server_url=server.url,
        trust_anchors=[server.trust_anchor],
        release_keys=[ReleaseKey(**k) for k in keys],
        state_dir=tmp_path / "state",
    )


def decide(settings: EcmtSettings, platform: str = "windows-x64") -> ReleaseDecision:
    check = ReleaseCheck(
        settings.release_keys,
        settings.state_dir / "release-state.json",
        running_version="5.0.0",
        platform=platform,
    )
    with ApiClient(Transport(settings)) as api:
        return check.run(api.client_release)


@pytest.fixture
def updates(tmp_path: Path) -> Path:
    folder = tmp_path / "updates"
    folder.mkdir()
    return folder


def test_a_signed_package_is_downloaded_checked_and_handed_to_msiexec(server, tmp_path, updates):
    package = tmp_path / NAME
    package.write_bytes(package_bytes())
    sign_and_publish(server, tmp_path, package, serial=1)
    settings = client(server, tmp_path)
    decision = decide(settings)
    assert decision.verdict == "offer"
    seen: list[tuple[int, int]] = []

    got = download_update(
        decision,
        functools.partial(download, settings),
        progress=lambda done, total: seen.append((done, total)),
        parent=updates,
    )
    assert got.path.read_bytes() == package.read_bytes()
    assert got.path.name == NAME  # our own name, from the signed version and platform
    assert seen[-1] == (package.stat().st_size, package.stat().st_size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert len(seen) > 1

    shell = FakeShell32()
    launched = launch_update(got, platform="win32", shell32=shell, last_error=lambda: 0)
    assert launched.outcome is LaunchOutcome.STARTED
    ((hwnd, verb, file, params, directory, show),) = shell.calls
    assert (hwnd, verb, file, directory, show) == (None, "runas", "msiexec.exe", None, 1)
    assert params.split()[:2] == ["/i", str(got.path)]
    assert "/l*v" in params


def test_a_refused_administrator_prompt_is_not_an_error_and_a_failure_is(server, tmp_path):
    package = tmp_path / NAME
    package.write_bytes(package_bytes(50_000))
    sign_and_publish(server, tmp_path, package, serial=1)
    settings = client(server, tmp_path)
    got = download_update(decide(settings), functools.partial(download, settings))
    try:
        refused = launch_update(
            got, platform="win32", shell32=FakeShell32(answer=5), last_error=lambda: 1223
        )
        assert refused.outcome is LaunchOutcome.CANCELLED
        with pytest.raises(EcmtError) as caught:
            launch_update(
                got, platform="win32", shell32=FakeShell32(answer=2), last_error=lambda: 2
            )
        assert caught.value.code is ErrorCode.UPDATE_NOT_STARTED
    finally:
        got.discard()
    assert not got.path.parent.exists()


def test_macos_opens_the_disk_image_and_linux_says_where_it_is(server, tmp_path):
    package = tmp_path / NAME
    package.write_bytes(package_bytes(20_000))
    sign_and_publish(server, tmp_path, package, serial=1)
    settings = client(server, tmp_path)
    got = download_update(decide(settings, "macos-arm64"), functools.partial(download, settings))
    assert got.path.name == "ecmt-5.1.0-macos-arm64.dmg"
    ran: list[list[str]] = []
    opened = launch_update(got, platform="darwin", run=lambda argv: ran.append(list(argv)))
    assert opened.outcome is LaunchOutcome.OPENED
    assert ran == [["open", str(got.path)]]
    saved = launch_update(got, platform="linux", run=lambda argv: ran.append(list(argv)))
    assert saved.outcome is LaunchOutcome.SAVED
    assert saved.path == got.path
    assert len(ran) == 1  # nothing run on Linux


@pytest.mark.parametrize("change", ["same-size", "longer", "shorter"])
def test_a_tampered_package_is_deleted_and_refused(server, tmp_path, updates, change):
    package = tmp_path / NAME
    original = package_bytes()
    package.write_bytes(original)
    sign_and_publish(server, tmp_path, package, serial=1)
    served = server.data_dir / "releases" / NAME
    swapped = {
        "same-size": bytes([original[0] ^ 1]) + original[1:],
        "longer": original + b"\0" * 10,
        "shorter": original[:-10],
    }[change]
    served.write_bytes(swapped)  # what a mirror, a proxy or an attacker serves instead
    settings = client(server, tmp_path)

    with pytest.raises(EcmtError) as caught:
        download_update(decide(settings), functools.partial(download, settings), parent=updates)
    assert caught.value.code is ErrorCode.UPDATE_TAMPERED
    assert list(updates.iterdir()) == []  # deleted, folder and all: nothing to launch


def test_publish_refuses_a_file_the_manifest_does_not_name(server, tmp_path, capsys):
    package = tmp_path / NAME
    package.write_bytes(package_bytes(10_000))
    other = tmp_path / "ecmt-other.msi"
    other.write_bytes(package_bytes(10_000))
    sign_and_publish(server, tmp_path, package, serial=1)
    manifest = tmp_path / "manifest-1.json"
    args = ["--data-dir", str(server.data_dir)]
    code = server_cli.main(
        ["release", "publish", *args, str(manifest), "--artifact-file", str(other)]
    )
    assert code == 1
    assert "not a package the manifest names" in capsys.readouterr().err
    assert not (server.data_dir / "releases" / other.name).exists()


def test_a_cancelled_download_leaves_nothing(server, tmp_path, updates):
    package = tmp_path / NAME
    package.write_bytes(package_bytes(2_000_000))
    sign_and_publish(server, tmp_path, package, serial=1)
    settings = client(server, tmp_path)
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        cancel.set()  # the user presses Cancel after the first chunk

    with pytest.raises(EcmtError) as caught:
        download_update(
            decide(settings),
            functools.partial(download, settings),
            progress=progress,
            cancel=cancel,
            parent=updates,
        )
    assert caught.value.code is ErrorCode.CANCELLED
    assert list(updates.iterdir()) == []


def test_a_package_missing_on_the_server_is_a_service_error(server, tmp_path, updates):
    package = tmp_path / NAME
    package.write_bytes(package_bytes(10_000))
    sign_and_publish(server, tmp_path, package, serial=1)
    (server.data_dir / "releases" / NAME).unlink()
    settings = client(server, tmp_path)
    with pytest.raises(EcmtError) as caught:
        download_update(decide(settings), functools.partial(download, settings), parent=updates)
    assert caught.value.code is not ErrorCode.UPDATE_TAMPERED
    assert caught.value.reference  # the helpdesk can find the request in the server log
    assert list(updates.iterdir()) == []


def test_a_rolled_back_manifest_is_refused_before_any_download(server, tmp_path):
    package = tmp_path / NAME
    package.write_bytes(package_bytes(10_000))
    sign_and_publish(server, tmp_path, package, serial=1)
    first = (server.data_dir / "release.json").read_bytes()
    sign_and_publish(server, tmp_path, package, serial=2)
    settings = client(server, tmp_path)
    assert decide(settings).serial == 2
    (server.data_dir / "release.json").write_bytes(first)  # an old, validly signed manifest
    with pytest.raises(EcmtError) as caught:
        decide(settings)
    assert caught.value.code is ErrorCode.RELEASE_ROLLBACK
