"""`ecmt` on a computer where nothing is set up yet: each message names what is missing
and what to do, in one plain sentence, and never shows a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from client_cli import ECMT, client_env, ecmt

TRACEBACK = "Traceback (most recent call last)"


def test_renew_without_a_server_says_none_is_configured(tmp_path: Path) -> None:
    run = ecmt("renew", "--epoc", "8123456", "--pin-stdin", home=tmp_path, stdin="ABCD-EFGH\n")
    assert run.returncode == 1
    assert "ECMT-SERVER-NOT-CONFIGURED" in run.stderr
    assert "no server is configured (set `server_url` or --server)" in run.stderr
    assert "online" not in run.stderr  # not a network diagnosis: nothing was tried
    assert TRACEBACK not in run.stderr


def test_renew_without_a_server_in_json_names_the_code(tmp_path: Path) -> None:
    run = ecmt("renew", "--pin-stdin", "--json", home=tmp_path, stdin="ABCD\n")
    assert run.returncode == 1
    assert run.json["code"] == "ECMT-SERVER-NOT-CONFIGURED"


def test_renew_without_an_epoc_says_it_is_missing(tmp_path: Path) -> None:
    run = ecmt(
        "renew",
        "--server",
        "https://127.0.0.1:9",
        "--store",
        f"files:{tmp_path / 'store'}",
        "--pin-stdin",
        home=tmp_path,
        stdin="ABCD-EFGH\n",
    )
    assert run.returncode == 3
    assert "ECMT-EPOC-MISSING: The EPOC number is missing" in run.stderr
    assert "does not look like an EPOC number" not in run.stderr
    assert TRACEBACK not in run.stderr


def test_status_names_the_default_store_it_looked_in(tmp_path: Path) -> None:
    run = ecmt("status", home=tmp_path)
    assert run.returncode == 0
    assert "No ePractitioner certificate in " in run.stderr + run.stdout
    words = run.stderr + run.stdout
    assert "the default store here: none is configured; set `store` or use --store" in words


def test_status_with_a_configured_store_does_not_call_it_the_default(tmp_path: Path) -> None:
    run = ecmt("status", "--store", f"files:{tmp_path / 'mine'}", home=tmp_path)
    assert run.returncode == 0
    assert "default store" not in run.stderr + run.stdout


@pytest.mark.parametrize(
    ("command", "option"),
    [
        ("renew", "--verbose"),
        ("renew", "--json"),
        ("renew", "--backup-format"),
        ("status", "--json"),
        ("backup", "--format"),
        ("terms", "--json"),
        ("check-release", "--json"),
    ],
)
def test_every_option_has_a_help_text(tmp_path: Path, command: str, option: str) -> None:
    run = ecmt(command, "--help", home=tmp_path)
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    (at,) = [i for i, line in enumerate(lines) if line.strip().startswith(option)]
    described = lines[at].strip()[len(option) :].strip(" ,{}abcdefghijklmnopqrstuvwxyz-|")
    following = lines[at + 1].strip() if at + 1 < len(lines) else ""
    assert described or (following and not following.startswith("-")), lines[at]


def test_the_window_without_a_display_says_so_and_exits_2(tmp_path: Path) -> None:
    """No desktop session: one plain sentence instead of Qt's abort (status 134)."""
    env = client_env(tmp_path)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    done = subprocess.run(
        [str(ECMT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "ecmt needs a desktop session to show its window, and none was found (DISPLAY is "
        "not set). `ecmt status` and `ecmt renew` work without one."
    )


def test_the_window_with_an_unreachable_display_says_so(tmp_path: Path) -> None:
    env = {**client_env(tmp_path), "DISPLAY": ":97", "QT_QPA_PLATFORM": "xcb"}
    assert not Path("/tmp/.X11-unix/X97").exists()
    done = subprocess.run(
        [str(ECMT), "--demo"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "cannot reach the desktop session's display :97" in done.stderr
    assert "Aborted" not in done.stderr
