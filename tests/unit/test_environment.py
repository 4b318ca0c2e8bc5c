"""R-1 administrator check, and the recorded ShellExecuteW contract for "Restart as administrator".

shell32 is faked (Win32 cannot run here); the fake records the exact call the real DLL gets.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import pytest

from ecmt.services import environment
from ecmt.services.environment import (
    ERROR_CANCELLED,
    RelaunchOutcome,
    elevation_check,
    is_elevated,
    relaunch_elevated,
    restart_as_admin_command,
)


@dataclass
class FakeStore:
    """Only what R-1 asks of a CertStore."""

    elevation: bool
    description: str = "Windows certificate store LocalMachine\\My"

    def needs_elevation(self) -> bool:
        return self.elevation


@dataclass
class FakeShell32:
    admin: int = 0
    answer: int | None = 42
    calls: list[tuple[object, ...]] = field(default_factory=list)

    def IsUserAnAdmin(self) -> int:
        return self.admin

    def ShellExecuteW(
        self, hwnd: None, verb: str, file: str, params: str, directory: None, show: int
    ) -> int | None:
        self.calls.append((hwnd, verb, file, params, directory, show))
        return self.answer


@pytest.mark.parametrize(
    ("needs", "elevated", "ok"),
    [(False, False, True), (False, True, True), (True, True, True), (True, False, False)],
)
def test_elevation_matters_only_when_the_store_needs_it(needs, elevated, ok):
    status = elevation_check(FakeStore(needs), elevated=lambda: elevated, platform="win32")
    assert (status.store_needs_elevation, status.elevated, status.ok) == (needs, elevated, ok)
    assert status.store == "Windows certificate store LocalMachine\\My"


@pytest.mark.parametrize(
    ("platform", "words"),
    [
        ("win32", "Restart as administrator"),
        ("darwin", "sudo or as an administrator"),
        ("linux", "per-user certificate store"),
    ],
)
def test_how_to_elevate_is_plain_and_per_platform(platform, words):
    status = elevation_check(FakeStore(True), elevated=lambda: False, platform=platform)
    assert words in status.how_to_elevate


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX rule")
def test_is_elevated_is_root_on_posix():
    assert is_elevated() is (os.geteuid() == 0)


def test_is_elevated_asks_shell32():
    assert is_elevated(FakeShell32(admin=1)) is True
    assert is_elevated(FakeShell32(admin=0)) is False


@pytest.mark.skipif(sys.platform == "win32", reason="the real DLL is there")
def test_shell32_is_not_loaded_off_windows():
    with pytest.raises(OSError, match="only on Windows"):
        environment._load_shell32()


def test_restart_command_quotes_like_the_msvc_runtime():
    exe = "C:\\Program Files\\ecmt\\ecmt.exe"
    file, params = restart_as_admin_command([exe, "--config", "C:\\My Files\\e.toml", 'a"b'])
    assert file == exe
    assert params == '--config "C:\\My Files\\e.toml" a\\"b'


def test_restart_command_from_source_repeats_the_interpreter_command(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setattr(sys, "orig_argv", ["python", "-m", "ecmt.cli", "status"])
    assert restart_as_admin_command() == (sys.executable, "-m ecmt.cli status")


def test_restart_command_when_frozen_reruns_the_exe(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "C:\\ecmt\\ecmt.exe")
    monkeypatch.setattr(sys, "argv", ["ecmt.exe", "--store", "machine"])
    assert restart_as_admin_command() == ("C:\\ecmt\\ecmt.exe", "--store machine")


def test_relaunch_makes_the_exact_shellexecute_call():
    shell32 = FakeShell32(answer=42)
    result = relaunch_elevated(
        ["C:\\ecmt\\ecmt.exe", "--store", "machine"], shell32=shell32, last_error=lambda: 0
    )
    assert shell32.calls == [(None, "runas", "C:\\ecmt\\ecmt.exe", "--store machine", None, 1)]
    assert (result.outcome, result.code) == (RelaunchOutcome.STARTED, 42)


def test_refused_uac_prompt_is_cancelled_not_an_error():
    # ShellExecuteW returns SE_ERR_ACCESSDENIED (5); GetLastError() says ERROR_CANCELLED.
    result = relaunch_elevated(
        ["e.exe"], shell32=FakeShell32(answer=5), last_error=lambda: ERROR_CANCELLED
    )
    assert (result.outcome, result.code, result.last_error) == (RelaunchOutcome.CANCELLED, 5, 1223)


@pytest.mark.parametrize(("answer", "error"), [(2, 2), (None, 0), (32, 1155)])
def test_other_answers_at_or_below_32_are_failures(answer, error):
    result = relaunch_elevated(
        ["e.exe"], shell32=FakeShell32(answer=answer), last_error=lambda: error
    )
    assert result.outcome is RelaunchOutcome.FAILED
    assert (result.code, result.last_error) == (answer or 0, error)
