"""R-2 release check: manifests signed by the server's own signing code, every verdict and code."""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from ccms_server import release
from ecmt.config import ReleaseKey
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.services.release import (
    ReleaseCheck,
    platform_id,
    raise_if_blocked,
    read_accepted_serial,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEY = ed25519.Ed25519PrivateKey.generate()
SHA_WIN, SHA_LINUX = "ab" * 32, "cd" * 32


def body(**changes: Any) -> dict[str, Any]:
    signed = {
        "schema": 1,
        "product": "ecmt",
        "channel": "stable",
        "serial": 7,
        "issued": "2026-11-28T12:00:00Z",
        "expires": "2026-12-28T12:00:00Z",
        "latest_version": "4.2.0",
        "minimum_version": "4.1.0",
        "install_page": "https://example.invalid/install.html",
        "release_notes": "Faster renewals",
        "artifacts": [
            {"platform": "windows-x64", "kind": "msi", "url": "https://example.invalid/e.msi",
             "sha256": SHA_WIN, "size": 10},
            {"platform": "linux-x64", "kind": "tar.gz", "url": "https://example.invalid/e.tgz",
             "sha256": SHA_LINUX, "size": 20},
        ],
    }  # fmt: skip
    signed.update(changes)
    return signed


def manifest(key: ed25519.Ed25519PrivateKey = KEY, **changes: Any) -> bytes:
    return json.dumps(release.sign(body(**changes), key)).encode()


def record(key: ed25519.Ed25519PrivateKey = KEY) -> ReleaseKey:
    return ReleaseKey(**release.public_key_record(key.public_key()))


@pytest.fixture
def check(tmp_path: Path) -> ReleaseCheck:
    return ReleaseCheck(
        [record()],
        tmp_path / "state" / "release-state.json",
        running_version="4.2.0",
        platform="linux-x64",
        now=lambda: NOW,
    )


def code_of(check: ReleaseCheck, raw: bytes | dict[str, Any]) -> ErrorCode:
    with pytest.raises(EcmtError) as caught:
        check.evaluate(raw)
    return caught.value.code


# --- verdicts ------------------------------------------------------------------------------


def test_fine_when_running_the_latest(check):
    decision = check.run(lambda: manifest())
    assert decision.verdict == "fine"
    assert (decision.latest_version, decision.minimum_version, decision.serial) == (
        "4.2.0",
        "4.1.0",
        7,
    )
    assert decision.release_notes == "Faster renewals"
    assert decision.install_page == "https://example.invalid/install.html"
    assert raise_if_blocked(decision) is decision


def test_newer_than_latest_is_fine(check):
    assert (
        dataclasses.replace(check, running_version="5.0.0").evaluate(manifest()).verdict == "fine"
    )


def test_offer_between_minimum_and_latest(check):
    decision = dataclasses.replace(check, running_version="4.1.5").evaluate(manifest())
    assert decision.verdict == "offer"
    assert raise_if_blocked(decision) is decision


def test_prerelease_of_latest_is_offered(check):
    decision = dataclasses.replace(check, running_version="4.2.0rc1").evaluate(manifest())
    assert decision.verdict == "offer"


def test_block_below_minimum_carries_the_platform_artifact(check):
    decision = dataclasses.replace(check, running_version="4.0.9").evaluate(manifest())
    assert decision.verdict == "block"
    assert decision.artifact is not None
    assert (decision.artifact.url, decision.artifact.sha256, decision.artifact.size) == (
        "https://example.invalid/e.tgz",
        SHA_LINUX,
        20,
    )
    with pytest.raises(EcmtError) as caught:
        raise_if_blocked(decision)
    assert caught.value.code is ErrorCode.RELEASE_BLOCKED
    assert SHA_LINUX in (caught.value.detail or "")
    assert "https://example.invalid/install.html" in (caught.value.detail or "")


def test_artifact_is_picked_by_platform_or_none(check):
    windows = dataclasses.replace(check, platform="windows-x64").evaluate(manifest())
    assert windows.artifact is not None
    assert windows.artifact.sha256 == SHA_WIN
    assert dataclasses.replace(check, platform="macos-arm64").evaluate(manifest()).artifact is None


def test_a_dict_manifest_is_accepted_too(check):
    assert check.evaluate(release.sign(body(), KEY)).verdict == "fine"


# --- unverified ----------------------------------------------------------------------------


def test_no_trusted_keys_fails_before_fetching(check):
    def fetch() -> bytes:
        raise AssertionError("must not fetch")

    with pytest.raises(EcmtError) as caught:
        dataclasses.replace(check, keys=[]).run(fetch)
    assert caught.value.code is ErrorCode.RELEASE_UNVERIFIED
    assert "no release_keys" in (caught.value.detail or "")


def test_malformed_configured_key_is_a_configuration_error(check):
    broken = ReleaseKey(keyid="release-x", public_key="not base64!")
    with pytest.raises(EcmtError) as caught:
        dataclasses.replace(check, keys=[broken]).evaluate(manifest())
    assert caught.value.code is ErrorCode.CONFIG_INVALID


def test_wrong_key_is_unverified(check):
    other = ed25519.Ed25519PrivateKey.generate()
    assert code_of(check, manifest(other)) is ErrorCode.RELEASE_UNVERIFIED


def test_right_signature_under_an_untrusted_keyid_is_unverified(check):
    renamed = dataclasses.replace(
        check, keys=[ReleaseKey(keyid="other", public_key=record().public_key)]
    )
    assert code_of(renamed, manifest()) is ErrorCode.RELEASE_UNVERIFIED


def test_one_good_signature_among_bad_ones_is_enough(check):
    envelope = release.sign(body(), KEY)
    stranger = release.sign(body(), ed25519.Ed25519PrivateKey.generate())["signatures"]
    garbage = [{"keyid": record().keyid, "sig": "%%%"}]
    envelope["signatures"] = stranger + garbage + envelope["signatures"]
    assert check.evaluate(envelope).verdict == "fine"


@pytest.mark.parametrize(
    ("field", "value"),
    [("minimum_version", "4.3.0"), ("serial", 8), ("install_page", "https://evil.invalid/")],
)
def test_tampered_field_is_unverified(check, field, value):
    envelope = release.sign(body(), KEY)
    envelope["signed"][field] = value
    assert code_of(check, envelope) is ErrorCode.RELEASE_UNVERIFIED


def test_tampered_artifact_digest_is_unverified(check):
    envelope = copy.deepcopy(release.sign(body(), KEY))
    envelope["signed"]["artifacts"][1]["sha256"] = "ee" * 32
    assert code_of(check, envelope) is ErrorCode.RELEASE_UNVERIFIED


def test_missing_signatures_are_unverified(check):
    envelope = release.sign(body(), KEY)
    assert code_of(check, {"signed": envelope["signed"]}) is ErrorCode.RELEASE_UNVERIFIED
    assert code_of(check, {**envelope, "signatures": []}) is ErrorCode.RELEASE_UNVERIFIED


@pytest.mark.parametrize(
    "raw", [b"", b"{not json", b"\xff\xfe", b"[]", b'"text"', b'{"signed": 1, "signatures": 2}']
)
def test_malformed_json_is_unverified(check, raw):
    assert code_of(check, raw) is ErrorCode.RELEASE_UNVERIFIED


def test_wrong_product_is_unverified(check):
    assert code_of(check, manifest(product="other")) is ErrorCode.RELEASE_UNVERIFIED


def test_other_channel_is_unverified(check):
    assert code_of(check, manifest(channel="beta")) is ErrorCode.RELEASE_UNVERIFIED


@pytest.mark.parametrize(
    "changes",
    [
        {"latest_version": "four point two"},
        {"minimum_version": "1.0-banana"},
        {"minimum_version": "4.3.0"},  # above latest: nothing installable to offer
    ],
)
def test_bad_versions_are_unverified(check, changes):
    assert code_of(check, manifest(**changes)) is ErrorCode.RELEASE_UNVERIFIED


@pytest.mark.parametrize(
    "changes",
    [
        {"install_page": "http://example.invalid/install.html"},
        {"install_page": "javascript:alert(1)"},
        {"artifacts": [{**body()["artifacts"][1], "url": "ftp://example.invalid/e.tgz"}]},
        {"artifacts": [{**body()["artifacts"][1], "sha256": "AB" * 32}]},
    ],
)
def test_unsafe_links_and_digests_are_unverified(check, changes):
    assert code_of(check, manifest(**changes)) is ErrorCode.RELEASE_UNVERIFIED


def test_timestamps_without_offset_are_unverified(check):
    assert code_of(check, manifest(issued="2026-11-28T12:00:00")) is ErrorCode.RELEASE_UNVERIFIED


# --- time ----------------------------------------------------------------------------------


def test_expired_manifest(check):
    assert code_of(check, manifest(expires="2026-12-01T11:59:59Z")) is ErrorCode.RELEASE_EXPIRED
    assert check.evaluate(manifest(expires="2026-12-01T12:00:00Z")).verdict == "fine"


def test_issued_far_in_the_future_points_at_the_clock(check):
    ahead = (NOW + timedelta(days=1, seconds=1)).isoformat()
    assert code_of(check, manifest(issued=ahead)) is ErrorCode.TLS_CLOCK
    within = (NOW + timedelta(hours=23)).isoformat()
    assert check.evaluate(manifest(issued=within)).verdict == "fine"


# --- anti-rollback -------------------------------------------------------------------------


def test_rollback_same_and_newer(check):
    assert check.evaluate(manifest(serial=7)).serial == 7
    assert read_accepted_serial(check.state_file) == 7
    assert code_of(check, manifest(serial=6)) is ErrorCode.RELEASE_ROLLBACK
    assert check.evaluate(manifest(serial=7)).verdict == "fine"  # the same manifest again
    assert check.evaluate(manifest(serial=8)).serial == 8
    assert json.loads(check.state_file.read_text()) == {"serial": 8}
    assert code_of(check, manifest(serial=7)) is ErrorCode.RELEASE_ROLLBACK


def test_a_refused_manifest_does_not_move_the_serial(check):
    check.evaluate(manifest(serial=7))
    code_of(check, manifest(serial=9, expires="2026-11-30T00:00:00Z"))
    code_of(check, manifest(ed25519.Ed25519PrivateKey.generate(), serial=10))
    assert read_accepted_serial(check.state_file) == 7


def test_no_state_file_yet_means_serial_zero(check):
    assert read_accepted_serial(check.state_file) == 0
    assert check.evaluate(manifest(serial=0)).serial == 0
    assert not check.state_file.exists()  # nothing higher than 0 to remember


@pytest.mark.parametrize(
    "content", [b"", b"{broken", b"[]", b'{"serial": "9"}', b'{"serial": -3}', b'{"serial": true}']
)
def test_corrupt_state_file_reads_as_zero_with_a_warning(check, caplog, content):
    check.state_file.parent.mkdir(parents=True)
    check.state_file.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="ecmt.services.release"):
        assert check.evaluate(manifest(serial=3)).serial == 3
    assert "anti-rollback starts again" in caplog.text
    assert json.loads(check.state_file.read_text()) == {"serial": 3}


def test_unwritable_state_is_logged_not_fatal(check, caplog):
    check.state_file.parent.mkdir(parents=True)
    check.state_file.mkdir()  # a folder where the file should be: reading and writing fail
    with caplog.at_level(logging.WARNING, logger="ecmt.services.release"):
        assert check.evaluate(manifest()).verdict == "fine"
    assert "could not record release serial 7" in caplog.text


# --- fetch and settings --------------------------------------------------------------------


def test_fetch_errors_pass_through(check):
    def fetch() -> bytes:
        raise EcmtError(ErrorCode.RELEASE_UNAVAILABLE, "404")

    with pytest.raises(EcmtError) as caught:
        check.run(fetch)
    assert caught.value.code is ErrorCode.RELEASE_UNAVAILABLE


def test_from_settings_uses_release_keys_and_state_dir(tmp_path):
    from ecmt.config import EcmtSettings

    settings = EcmtSettings(
        server_url="https://ccms.example.invalid",
        release_keys=[record().model_dump()],
        state_dir=tmp_path,
    )
    check = ReleaseCheck.from_settings(settings)
    assert check.state_file == tmp_path / "release-state.json"
    assert [k.keyid for k in check.keys] == [record().keyid]
    assert check.now().tzinfo is not None


@pytest.mark.parametrize(
    ("system", "machine", "expected"),
    [
        ("win32", "AMD64", "windows-x64"),
        ("win32", "ARM64", "windows-arm64"),
        ("darwin", "arm64", "macos-arm64"),
        ("darwin", "x86_64", "macos-x64"),
        ("linux", "x86_64", "linux-x64"),
        ("linux", "aarch64", "linux-arm64"),
        ("freebsd14", "amd64", "freebsd-x64"),
        ("linux", "riscv64", "linux-riscv64"),
    ],
)
def test_platform_id(system, machine, expected):
    assert platform_id(system, machine) == expected
