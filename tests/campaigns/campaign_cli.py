"""Running the real `ecmt` for the crash-point and fault campaigns, and reading back what a
run left behind: the store (through `ecmt status`), the journal, the server's issuance
records, and any secret that reached a file, a log or a child's command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from ecmt.domain.errors import ErrorCode
from ecmt.secrets import FileSecrets
from ecmt.services.journal import Journal, PendingRenewal

ECMT = Path(sys.executable).parent / "ecmt"
SPIED_TOOLS = ("certutil", "pk12util", "openssl")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.stdout)
        except ValueError:
            return {}

    @property
    def code(self) -> str:
        """The ECMT code of a failed run, "ok", or "killed" for a SIGKILLed one."""
        if self.returncode < 0:
            return "killed"
        if self.returncode == 0:
            return "ok"
        return str(self.json.get("code", f"exit {self.returncode}"))


@dataclass
class Client:
    """One user's `ecmt`: its own HOME, folders, store, and spied-on tools."""

    home: Path
    store: str

    @property
    def state_dir(self) -> Path:
        return self.home / "state"

    @property
    def argv_log(self) -> Path:
        return self.home / "child-argv.log"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECMT_")}
        env.update(
            {
                "HOME": str(self.home),
                "XDG_CONFIG_HOME": str(self.home / ".config"),
                "XDG_DATA_HOME": str(self.home / ".local" / "share"),
                "XDG_STATE_HOME": str(self.home / ".local" / "state"),
                "XDG_CACHE_HOME": str(self.home / ".cache"),
                "XDG_CONFIG_DIRS": str(self.home / "etc-xdg"),
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
                "ECMT_STATE_DIR": str(self.state_dir),
                "ECMT_DATA_DIR": str(self.home / "data"),
                "ECMT_LOG_DIR": str(self.home / "logs"),
                "PATH": f"{self.spies}{os.pathsep}{os.environ['PATH']}",
                "TMPDIR": str(self._tmp()),
                "XDG_RUNTIME_DIR": str(self._tmp("run")),
                **extra,
            }
        )
        return env

    def _tmp(self, name: str = "tmp") -> Path:
        """The client's own temporary folders, so what it leaves there is scanned too."""
        folder = self.home / name
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    def left_in_temp(self) -> list[str]:
        """What the client left in its temporary folders (nothing, after a completed run)."""
        return sorted(
            str(p.relative_to(self.home))
            for name in ("tmp", "run")
            for p in (self.home / name).rglob("*")
            if p.is_file()
        )

    @property
    def spies(self) -> Path:
        """certutil, pk12util and openssl wrapped to record their argv, then run."""
        folder = self.home / "spy-bin"
        if not folder.exists():
            folder.mkdir(parents=True)
            for tool in SPIED_TOOLS:
                real = _which(tool)
                if real:
                    spy = folder / tool
                    spy.write_text(
                        f'#!/bin/sh\necho "{tool} $*" >> "{self.argv_log}"\nexec "{real}" "$@"\n'
                    )
                    spy.chmod(0o755)
        return folder

    def run(self, *args: str, stdin: str | None = None, timeout: float = 120, **env: str) -> Run:
        result = subprocess.run(
            [str(ECMT), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env(**env),
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )
        return Run(result.returncode, result.stdout, result.stderr)

    def certificates(self, epoc: str) -> list[dict[str, Any]]:
        """The store's certificates for EPOC, read with the client's own store adapter."""
        from ecmt.certstore import open_store
        from ecmt.domain.models import Profile

        store = open_store(self.store, self.home / "data", FileSecrets(self.state_dir / "secrets"))
        now = datetime.now(UTC)
        return [
            {
                "serial": hex_serial(s.certificate),
                "fingerprint": s.fingerprint,
                "valid": s.certificate.not_valid_before_utc
                <= now
                <= s.certificate.not_valid_after_utc,
                "has_private_key": s.has_private_key,
            }
            for s in store.list(Profile(epoc=epoc))
        ]

    def usable(self, epoc: str) -> list[dict[str, Any]]:
        """Valid certificates for EPOC whose private key is in the store with them."""
        return [c for c in self.certificates(epoc) if c["valid"] and c["has_private_key"]]

    def journal_file(self, epoc: str) -> Path:
        return self.state_dir / "journal" / f"pending-{epoc}.json"

    def pending(self, epoc: str) -> PendingRenewal | None:
        """The journal entry, decrypted with the key the client keeps (file fallback)."""
        journal = Journal(self.state_dir / "journal", FileSecrets(self.state_dir / "secrets"))
        return journal.load(epoc)


def _which(tool: str) -> str | None:
    from shutil import which

    return which(tool)


def issued_serials(server: Any, epoc: str) -> list[str]:
    return [c["serial"] for c in server.admin.list_certificates(epoc)]


def serial_of(entry: dict[str, Any]) -> str:
    return str(entry["serial"]).lower().lstrip("0") or "0"


def hex_serial(cert: x509.Certificate) -> str:
    return format(cert.serial_number, "x")


def exit_status_matches(run: Run) -> bool:
    """The exit status is the one docs/cli.md gives for the run's code."""
    from ecmt.cli.output import exit_code_for

    if run.returncode in (0,) or run.returncode < 0:
        return True
    try:
        return run.returncode == exit_code_for(ErrorCode(run.code))
    except ValueError:
        return False


@dataclass
class SecretScan:
    files: int = 0
    argv_lines: int = 0
    found: int = 0

    def add(self, other: SecretScan) -> None:
        self.files += other.files
        self.argv_lines += other.argv_lines
        self.found += other.found


def scan_for_secrets(
    roots: list[Path], secrets: list[str], runs: list[Run]
) -> tuple[SecretScan, list[str]]:
    """Every file under `roots` (logs, journal, state, store, temp folders) and every
    recorded child argv and run output, searched for each secret."""
    scan = SecretScan()
    hits: list[str] = []
    needles = [s.encode() for s in secrets if s]
    for root in roots:
        for path in root.rglob("*") if root.exists() else []:
            if not path.is_file() or path.is_symlink():
                continue
            scan.files += 1
            data = path.read_bytes()
            if path.name == "child-argv.log":
                scan.argv_lines += data.count(b"\n")
            hits += [f"{path}" for needle in needles if needle in data]
    for run in runs:
        text = (run.stdout + run.stderr).encode()
        hits += ["ecmt output" for needle in needles if needle in text]
    scan.found = len(hits)
    return scan, hits
