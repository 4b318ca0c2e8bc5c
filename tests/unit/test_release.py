from __future__ import annotations

import copy
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from ccms_protocol.wire import canonical_json
from ccms_server import release

BODY = {
    "schema": 1,
    "product": "ecmt",
    "channel": "stable",
    "serial": 42,
    "issued": "2026-11-28T12:00:00Z",
    "expires": "2026-12-28T12:00:00Z",
    "latest_version": "4.2.0",
    "minimum_version": "4.1.0",
    "install_page": "https://example.invalid/install.html",
    "release_notes": "Ünïcode notes",
    "artifacts": [
        {
            "platform": "windows-x64",
            "kind": "msi",
            "url": "https://example.invalid/x.msi",
            "sha256": "ab" * 32,
            "size": 10,
        }
    ],
}


def test_canonical_json_is_sorted_compact_utf8():
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()


def test_sign_then_verify():
    key = ed25519.Ed25519PrivateKey.generate()
    envelope = release.sign(BODY, key)
    trusted = {release.key_id(key.public_key()): key.public_key()}
    body = release.verify(json.loads(json.dumps(envelope)), trusted)
    assert body.serial == 42
    assert body.minimum_version == "4.1.0"


def test_tampering_and_untrusted_keys_are_refused():
    key = ed25519.Ed25519PrivateKey.generate()
    other = ed25519.Ed25519PrivateKey.generate()
    envelope = release.sign(BODY, key)
    trusted = {release.key_id(key.public_key()): key.public_key()}
    tampered = copy.deepcopy(envelope)
    tampered["signed"]["minimum_version"] = "0.1.0"
    with pytest.raises(release.ReleaseError):
        release.verify(tampered, trusted)
    with pytest.raises(release.ReleaseError):
        release.verify(envelope, {release.key_id(other.public_key()): other.public_key()})
    with pytest.raises(release.ReleaseError, match="not a release manifest"):
        release.verify({"signed": {}, "signatures": []}, trusted)


def test_invalid_body_is_not_signed():
    with pytest.raises(release.ReleaseError):
        release.sign({**BODY, "serial": -1}, ed25519.Ed25519PrivateKey.generate())


def test_publish_checks_signature_and_serial(tmp_path):
    key_file, public_file = tmp_path / "k.pem", tmp_path / "pub.json"
    release.create_signing_key(key_file, public_file, None)
    key = release.load_signing_key(key_file, None)
    target = tmp_path / "release.json"
    assert release.next_serial(target) == 1
    release.publish(release.sign(BODY, key), target, public_file)
    assert release.next_serial(target) == 43
    with pytest.raises(release.ReleaseError, match="not above"):
        release.publish(release.sign(BODY, key), target, public_file)
    assert json.loads(target.read_text())["signed"]["serial"] == 42
