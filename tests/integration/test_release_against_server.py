"""R-2 end to end: publish with the server's release key, fetch over real TLS, check."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ccms_server import release
from ecmt.config import ReleaseKey
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.services.release import ReleaseCheck
from support import API, Harness

SHA = "0f" * 32


def publish(server: Harness, serial: int, minimum: str, latest: str = "4.2.0") -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    signed = {
        "schema": 1,
        "product": "ecmt",
        "channel": "stable",
        "serial": serial,
        "issued": now.isoformat().replace("+00:00", "Z"),
        "expires": (now + timedelta(days=30)).isoformat().replace("+00:00", "Z"),
        "latest_version": latest,
        "minimum_version": minimum,
        "install_page": "https://example.invalid/install.html",
        "release_notes": "Test release",
        "artifacts": [
            {"platform": "windows-x64", "kind": "msi", "url": "https://example.invalid/e.msi",
             "sha256": SHA, "size": 1234},
        ],
    }  # fmt: skip
    paths = server.services.paths
    key = release.load_signing_key(paths.release_key, None)
    release.publish(
        release.sign(signed, key), server.data_dir / "release.json", paths.release_public_key
    )


def fetch(server: Harness) -> bytes:
    """A stand-in for the CCMS client (written elsewhere): 404 means nothing published yet."""
    status, body = _get(server, API + "client-release")
    if status == 404:
        raise EcmtError(ErrorCode.RELEASE_UNAVAILABLE, "no manifest published")
    assert status == 200, body
    return body


def _get(server: Harness, path: str) -> tuple[int, bytes]:
    # The response must die here: held by a traceback in a reference cycle, it keeps its
    # TLS connection open past the server's stop, which then warns of an unclosed transport.
    response = server.get(path)
    return response.status_code, response.content


@pytest.fixture
def check(server: Harness, tmp_path: Path) -> ReleaseCheck:
    records: list[dict[str, Any]] = json.loads(
        server.services.paths.release_public_key.read_text()
    )["keys"]
    return ReleaseCheck(
        [ReleaseKey(**r) for r in records],
        tmp_path / "client-state" / "release-state.json",
        running_version="4.1.0",
        platform="windows-x64",
    )


def test_nothing_published_is_unavailable(server, check):
    with pytest.raises(EcmtError) as caught:
        check.run(lambda: fetch(server))
    assert caught.value.code is ErrorCode.RELEASE_UNAVAILABLE


def test_published_manifest_verifies_and_decides(server, check):
    publish(server, serial=1, minimum="4.0.0")
    decision = check.run(lambda: fetch(server))
    assert (decision.verdict, decision.serial, decision.latest_version) == ("offer", 1, "4.2.0")
    assert decision.artifact is not None
    assert (decision.artifact.sha256, decision.artifact.size) == (SHA, 1234)

    publish(server, serial=2, minimum="4.2.0")
    blocked = check.run(lambda: fetch(server))
    assert (blocked.verdict, blocked.serial) == ("block", 2)
    assert json.loads(check.state_file.read_text()) == {"serial": 2}


def test_manifest_from_another_key_is_unverified(server, check, tmp_path):
    publish(server, serial=1, minimum="4.0.0")
    stranger_public = tmp_path / "stranger.json"
    release.create_signing_key(tmp_path / "stranger.pem", stranger_public, None)
    stranger = json.loads(stranger_public.read_text())["keys"]
    untrusting = ReleaseCheck(
        [ReleaseKey(**r) for r in stranger], check.state_file, running_version="4.1.0"
    )
    with pytest.raises(EcmtError) as caught:
        untrusting.run(lambda: fetch(server))
    assert caught.value.code is ErrorCode.RELEASE_UNVERIFIED


def test_client_remembers_a_newer_serial_than_the_server_now_serves(server, check):
    publish(server, serial=1, minimum="4.0.0")
    check.state_file.parent.mkdir(parents=True)
    check.state_file.write_text('{"serial": 5}')  # seen from a newer server before
    with pytest.raises(EcmtError) as caught:
        check.run(lambda: fetch(server))
    assert caught.value.code is ErrorCode.RELEASE_ROLLBACK
