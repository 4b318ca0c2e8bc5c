"""Signed client-release manifests (Ed25519 over canonical JSON): make, sign, check, publish."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import ValidationError

from ccms_protocol.files import write_atomic
from ccms_protocol.wire import ReleaseManifest, ReleaseSigned, canonical_json

from .keys import load_key, save_key


class ReleaseError(Exception):
    """A manifest that cannot be signed, verified or published."""


def key_id(public_key: ed25519.Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "release-" + hashlib.sha256(raw).hexdigest()[:12]


def public_key_record(public_key: ed25519.Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"keyid": key_id(public_key), "public_key": base64.b64encode(raw).decode()}


def create_signing_key(
    key_path: Path, public_path: Path, passphrase: bytes | None
) -> dict[str, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    save_key(key_path, key, passphrase)
    record = public_key_record(key.public_key())
    write_atomic(public_path, (json.dumps({"keys": [record]}, indent=2) + "\n").encode(), 0o644)
    return record


def load_signing_key(path: Path, passphrase: bytes | None) -> ed25519.Ed25519PrivateKey:
    key = load_key(path, passphrase)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ReleaseError(f"{path} is not an Ed25519 release key")
    return key


def manifest_body(
    *,
    serial: int,
    latest: str,
    minimum: str,
    install_page: str,
    notes: str = "",
    artifacts: list[dict[str, Any]] | None = None,
    channel: str = "stable",
    days: int = 30,
) -> dict[str, Any]:
    """The `signed` part of a manifest, issued now and expiring after `days`."""
    now = datetime.now(UTC).replace(microsecond=0)

    def stamp(moment: datetime) -> str:
        return moment.isoformat().replace("+00:00", "Z")

    return {
        "schema": 1,
        "product": "ecmt",
        "channel": channel,
        "serial": serial,
        "issued": stamp(now),
        "expires": stamp(now + timedelta(days=days)),
        "latest_version": latest,
        "minimum_version": minimum,
        "install_page": install_page,
        "release_notes": notes,
        "artifacts": artifacts or [],
    }


def sign(signed: dict[str, Any], key: ed25519.Ed25519PrivateKey) -> dict[str, Any]:
    """The envelope `{"signed": ..., "signatures": [...]}` for a validated body."""
    try:
        ReleaseSigned.model_validate(signed)
    except ValidationError as exc:
        raise ReleaseError(f"the manifest body is not valid: {exc}") from None
    sig = base64.b64encode(key.sign(canonical_json(signed))).decode()
    return {"signed": signed, "signatures": [{"keyid": key_id(key.public_key()), "sig": sig}]}


def verify(envelope: dict[str, Any], trusted: dict[str, ed25519.Ed25519PublicKey]) -> ReleaseSigned:
    """The body, if at least one signature by a trusted key verifies; else ReleaseError."""
    try:
        manifest = ReleaseManifest.model_validate(envelope)
        body = manifest.body()
    except ValidationError as exc:
        raise ReleaseError(f"not a release manifest: {exc.error_count()} problem(s)") from None
    if not manifest.signed_by_any(trusted):
        raise ReleaseError("no signature by a trusted release key verifies")
    return body


def trusted_keys(public_path: Path) -> dict[str, ed25519.Ed25519PublicKey]:
    records = json.loads(public_path.read_text())["keys"]
    return {
        r["keyid"]: ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(r["public_key"]))
        for r in records
    }


def publish(envelope: dict[str, Any], target: Path, public_path: Path) -> ReleaseSigned:
    """Verify against DATA_DIR's release keys, refuse a serial rollback, write atomically."""
    body = verify(envelope, trusted_keys(public_path))
    if target.exists():
        current = ReleaseManifest.model_validate_json(target.read_bytes()).body()
        if body.serial <= current.serial:
            raise ReleaseError(
                f"serial {body.serial} is not above the published serial {current.serial}"
            )
    write_atomic(target, (json.dumps(envelope, indent=2) + "\n").encode(), 0o644)
    return body


def next_serial(target: Path) -> int:
    if not target.exists():
        return 1
    return ReleaseManifest.model_validate_json(target.read_bytes()).body().serial + 1


# --- the packages a manifest names ---------------------------------------------------------

RELEASES_DIR = "releases"  # DATA_DIR/releases/<name>, served as /ccms/v1/releases/<name>
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def artifact_name_ok(name: str) -> bool:
    """A plain file name: no folders, no leading dot, nothing a URL would need to escape."""
    return bool(_FILE_NAME.fullmatch(name)) and ".." not in name


def publish_artifacts(
    envelope: dict[str, Any], files: list[Path], data_dir: Path, public_path: Path
) -> list[Path]:
    """Copy package files into DATA_DIR/releases, each only if the signed manifest names
    its SHA-256 and size: a client then finds exactly what it was promised."""
    body = verify(envelope, trusted_keys(public_path))
    promised = {(a.sha256, a.size) for a in body.artifacts}
    published = []
    for source in files:
        if not artifact_name_ok(source.name):
            raise ReleaseError(f"{source.name!r} is not a plain file name for a package")
        data = source.read_bytes()
        if (hashlib.sha256(data).hexdigest(), len(data)) not in promised:
            raise ReleaseError(f"{source} is not a package the manifest names (SHA-256 and size)")
        target = data_dir / RELEASES_DIR / source.name
        target.parent.mkdir(mode=0o755, exist_ok=True)
        write_atomic(target, data, 0o644)
        published.append(target)
    return published
