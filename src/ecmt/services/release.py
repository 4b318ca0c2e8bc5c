"""R-2 version check: trust a release manifest only if signed by a configured key, refuse
stale or replayed ones, then decide whether this version is blocked, may update, or is fine.

Verification is done here, not with `ccms_server.release`: the client shares only the wire
models with the server, and what it trusts comes from its own configuration.
"""

from __future__ import annotations

import base64
import json
import logging
import platform as _platform
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from packaging.version import InvalidVersion, Version
from pydantic import ValidationError

from ccms_protocol.files import write_atomic
from ccms_protocol.wire import ReleaseArtifact, ReleaseManifest, ReleaseSigned

from .. import __version__
from ..config import EcmtSettings, ReleaseKey
from ..domain.errors import EcmtError, ErrorCode

log = logging.getLogger(__name__)

Verdict = Literal["block", "offer", "fine"]
STATE_FILE = "release-state.json"
# A manifest issued further ahead than this means this computer's clock is behind.
MAX_ISSUED_AHEAD = timedelta(days=1)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SYSTEMS = {"win32": "windows", "darwin": "macos", "linux": "linux"}
_MACHINES = {"x86_64": "x64", "amd64": "x64", "x64": "x64", "aarch64": "arm64", "arm64": "arm64"}
_MACHINES |= {"i386": "x86", "i686": "x86", "x86": "x86"}


@dataclass(frozen=True)
class ReleaseDecision:
    """What R-2 shows. "block" is a verdict, not an error: the page needs install_page and
    the artifact's SHA-256 to help the user; the CLI turns it into an error with
    `raise_if_blocked`."""

    verdict: Verdict
    running_version: str
    latest_version: str
    minimum_version: str
    install_page: str
    release_notes: str
    artifact: ReleaseArtifact | None  # the download for this platform, if one is listed
    serial: int


def platform_id(system: str | None = None, machine: str | None = None) -> str:
    """The manifest's artifact platform for this process ("windows-x64", "macos-arm64")."""
    system = sys.platform if system is None else system
    machine = (_platform.machine() if machine is None else machine).lower()
    return f"{_SYSTEMS.get(system, system.rstrip('0123456789'))}-{_MACHINES.get(machine, machine)}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _unverified(detail: str) -> EcmtError:
    return EcmtError(ErrorCode.RELEASE_UNVERIFIED, detail)


def trusted_keys(records: Sequence[ReleaseKey]) -> dict[str, Ed25519PublicKey]:
    """Configured keys by keyid. A malformed key is the deployment's mistake: CONFIG_INVALID."""
    keys: dict[str, Ed25519PublicKey] = {}
    for record in records:
        try:
            raw = base64.b64decode(record.public_key, validate=True)
            keys[record.keyid] = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            raise EcmtError(
                ErrorCode.CONFIG_INVALID,
                f"release_keys: {record.keyid!r} is not a base64 raw Ed25519 public key",
            ) from None
    if not keys:
        raise _unverified("no release_keys are configured, so no release manifest can be trusted")
    return keys


def verified_body(
    manifest: bytes | str | Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey]
) -> ReleaseSigned:
    """The signed body, if one signature by a trusted key covers it; else RELEASE_UNVERIFIED."""
    try:
        data = json.loads(manifest) if isinstance(manifest, bytes | str) else manifest
        envelope = ReleaseManifest.model_validate(data)
    except (ValueError, RecursionError) as exc:  # JSON, UTF-8, validation, deep nesting
        raise _unverified(f"not a release manifest: {type(exc).__name__}") from None
    if not envelope.signed_by_any(keys):
        signers = sorted(sig.keyid for sig in envelope.signatures)
        raise _unverified(f"no trusted signature (signed by {signers}, trusted {sorted(keys)})")
    try:
        return envelope.body()
    except ValidationError as exc:
        raise _unverified(f"the signed body is invalid: {exc.error_count()} problem(s)") from None


def _versions(body: ReleaseSigned) -> tuple[Version, Version]:
    try:
        minimum, latest = Version(body.minimum_version), Version(body.latest_version)
    except InvalidVersion as exc:
        raise _unverified(f"manifest version is not PEP 440: {exc}") from None
    if minimum > latest:  # would block users with nothing installable to offer them
        raise _unverified(f"minimum_version {minimum} is above latest_version {latest}")
    return minimum, latest


def _check_links(body: ReleaseSigned) -> None:
    """The UI opens install_page and shows SHA-256s: only https links and real digests."""
    urls = [body.install_page, *(a.url for a in body.artifacts)]
    if not all(url.startswith("https://") for url in urls):
        raise _unverified("a manifest link is not https://")
    if not all(_SHA256.fullmatch(a.sha256) for a in body.artifacts):
        raise _unverified("an artifact sha256 is not 64 lower-case hex digits")


def _check_times(body: ReleaseSigned, now: datetime) -> None:
    if body.issued.tzinfo is None or body.expires.tzinfo is None:
        raise _unverified("manifest timestamps carry no UTC offset")
    if body.expires < now:
        raise EcmtError(ErrorCode.RELEASE_EXPIRED, f"expired {body.expires.isoformat()}")
    if body.issued > now + MAX_ISSUED_AHEAD:
        # Our clock being behind is far likelier than a publisher post-dating a manifest.
        raise EcmtError(
            ErrorCode.TLS_CLOCK,
            f"release manifest issued {body.issued.isoformat()}, this computer says "
            f"{now.isoformat()}",
        )


def read_accepted_serial(path: Path) -> int:
    """The highest serial accepted so far; 0 if none. A damaged file also reads as 0 (logged):
    a lost anti-rollback floor is a smaller harm than locking the user out for good."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return 0
    except (OSError, ValueError) as exc:
        log.warning("release state %s unreadable (%s); anti-rollback starts again", path, exc)
        return 0
    serial = data.get("serial") if isinstance(data, dict) else None
    if type(serial) is not int or serial < 0:
        log.warning("release state %s holds no serial; anti-rollback starts again", path)
        return 0
    return serial


def remember_serial(path: Path, serial: int) -> None:
    """Persist atomically; a failure is logged, not raised (this run's check already passed)."""
    try:
        write_atomic(path, (json.dumps({"serial": serial}) + "\n").encode())
    except OSError as exc:
        log.warning("could not record release serial %d in %s: %s", serial, path, exc)


@dataclass(frozen=True)
class ReleaseCheck:
    """The inputs of the check; `now` and `platform` are injectable for tests."""

    keys: Sequence[ReleaseKey]
    state_file: Path
    running_version: str = __version__
    platform: str = field(default_factory=platform_id)
    channel: str = "stable"
    now: Callable[[], datetime] = field(default=_utcnow)

    @classmethod
    def from_settings(cls, settings: EcmtSettings) -> ReleaseCheck:
        return cls(settings.release_keys, settings.state_dir / STATE_FILE)

    def run(self, fetch: Callable[[], bytes]) -> ReleaseDecision:
        """Fetch (its EcmtError passes through) and decide. No keys: fail before fetching."""
        keys = trusted_keys(self.keys)
        return self._decide(fetch(), keys)

    def evaluate(self, manifest: bytes | str | Mapping[str, Any]) -> ReleaseDecision:
        return self._decide(manifest, trusted_keys(self.keys))

    def _decide(
        self, manifest: bytes | str | Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey]
    ) -> ReleaseDecision:
        running = Version(self.running_version)  # ours, from package metadata: always PEP 440
        body = verified_body(manifest, keys)
        if body.product != "ecmt" or body.channel != self.channel:
            raise _unverified(f"manifest is for {body.product}/{body.channel}")
        minimum, latest = _versions(body)
        _check_links(body)
        _check_times(body, self.now())
        accepted = read_accepted_serial(self.state_file)
        if body.serial < accepted:
            raise EcmtError(
                ErrorCode.RELEASE_ROLLBACK, f"serial {body.serial} < accepted {accepted}"
            )
        if body.serial > accepted:
            remember_serial(self.state_file, body.serial)
        verdict: Verdict = "block" if running < minimum else "offer" if running < latest else "fine"
        log.info("release manifest %d verified: %s (running %s)", body.serial, verdict, running)
        return ReleaseDecision(
            verdict=verdict,
            running_version=self.running_version,
            latest_version=body.latest_version,
            minimum_version=body.minimum_version,
            install_page=body.install_page,
            release_notes=body.release_notes,
            artifact=next((a for a in body.artifacts if a.platform == self.platform), None),
            serial=body.serial,
        )


def raise_if_blocked(decision: ReleaseDecision) -> ReleaseDecision:
    """For the CLI, where a block ends the run: RELEASE_BLOCKED with the page and digest."""
    if decision.verdict != "block":
        return decision
    digest = f", SHA-256 {decision.artifact.sha256}" if decision.artifact else ""
    raise EcmtError(
        ErrorCode.RELEASE_BLOCKED,
        f"version {decision.running_version} is below the minimum {decision.minimum_version}; "
        f"install {decision.latest_version} from {decision.install_page}{digest}",
    )
