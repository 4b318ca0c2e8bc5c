"""The frozen program (PyInstaller, dist/ecmt from installer/build.sh) does what the
installed one does: a missing hidden import, Qt plugin or resource file shows up here,
not on a practice's computer.

The build is made once per CI run by .ci/run before the tests; ECMT_FROZEN_DIR points
at another one.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from desktop_harness import find
from user_steps import Walk, demo_pin, on_page, text_showing

from conftest import Session, demo_server
from ecmt import __version__
from support import IN_CI

ROOT = Path(__file__).resolve().parents[2]
FROZEN_DIR = Path(os.environ.get("ECMT_FROZEN_DIR", ROOT / "dist" / "ecmt"))
FROZEN = FROZEN_DIR / "ecmt"

pytestmark = pytest.mark.frozen


@pytest.fixture(scope="module")
def frozen() -> Path:
    if not FROZEN.is_file():
        message = f"no frozen build at {FROZEN}: run `bash installer/build.sh linux`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return FROZEN


def run(frozen: Path, *args: str, home: Path, stdin: str | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECMT_", "PYTHON"))}
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "XDG_CONFIG_DIRS": str(home / "etc-xdg"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
    )
    return subprocess.run(
        [str(frozen), *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )


def test_version(frozen: Path, tmp_path: Path) -> None:
    done = run(frozen, "--version", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert __version__ in done.stdout


def test_headless_renewal_against_the_reference_server(frozen: Path, tmp_path: Path) -> None:
    """`ecmt renew` as a script runs it: TLS, EST, the key, the store, the checks."""
    store = tmp_path / "store"
    with demo_server(tmp_path) as server:
        done = run(
            frozen,
            "renew",
            "--server",
            server.url,
            "--trust-anchor",
            server.trust_anchor,
            "--store",
            f"files:{store}",
            "--epoc",
            server.epoc,
            "--pin-stdin",
            "--accept-terms",
            "--json",
            home=tmp_path / "home",
            stdin=server.pin + "\n",
        )
        assert done.returncode == 0, (done.stdout, done.stderr)
        issued = json.loads(server.admin("certs", "list", "--epoc", server.epoc))
    status = run(frozen, "status", "--json", "--store", f"files:{store}", home=tmp_path / "home")
    assert status.returncode == 0, status.stderr
    listed = json.dumps(json.loads(status.stdout))
    assert len(issued) == 1
    assert issued[0]["serial"].lower().lstrip("0") in listed.lower()


def test_the_desktop_app_starts_on_the_first_page_and_reaches_log_on(
    frozen: Path, desk: Session
) -> None:
    """`ecmt --demo` from the frozen folder on X11 with a screen reader's view: the Qt
    platform plugin, the in-process demo server, the release check and the PIN letter."""
    with desk.run(["--demo"], executable=frozen):
        nodes = on_page(desk.screen, "Step 1 of 7 · R-1")
        assert find(nodes, "push button", "Finish") is None
        Walk(desk.screen, desk.keys).start_to_logon()
        assert demo_pin(desk.screen)
        text_showing(desk.screen, "EPOC number")
