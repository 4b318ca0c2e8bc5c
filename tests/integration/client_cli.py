"""Running the `ecmt` CLI as a user or a script would: a real process with its own HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ECMT = Path(sys.executable).parent / "ecmt"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def client_env(home: Path, path_prefix: Path | None = None) -> dict[str, str]:
    """A clean per-test HOME and XDG folders, so no real user file is read or written."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECMT_")}
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_CONFIG_DIRS": str(home / "etc-xdg"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
    )
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}{os.pathsep}{env['PATH']}"
    return env


def ecmt(
    *args: str,
    home: Path,
    stdin: str | None = None,
    path_prefix: Path | None = None,
    timeout: float = 120,
) -> Run:
    result = subprocess.run(
        [str(ECMT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=client_env(home, path_prefix),
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )
    return Run(result.returncode, result.stdout, result.stderr)
