"""R-1 administrator check: detect elevation instead of asking the user to confirm it.

Windows calls go through a small `Shell32` protocol so the exact ShellExecuteW contract is
tested on any OS; the DLL itself is loaded only on Windows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, cast

from ..certstore.port import CertStore

SW_SHOWNORMAL = 1
ERROR_CANCELLED = 1223  # GetLastError() when the user answers No to the UAC prompt

HOW_TO_ELEVATE = {
    "win32": "Restart as administrator.",
    "darwin": "Quit, then run the program with sudo or as an administrator.",
}
HOW_TO_ELEVATE_ELSEWHERE = (
    "Quit, then run the program with sudo, or choose a per-user certificate store."
)


class Shell32(Protocol):
    def IsUserAnAdmin(self) -> int: ...

    def ShellExecuteW(
        self, hwnd: None, verb: str, file: str, params: str, directory: None, show: int
    ) -> int | None: ...


@dataclass(frozen=True)
class ElevationStatus:
    """R-1's answer: `ok` passes the step by itself; otherwise show `how_to_elevate`."""

    elevated: bool
    store_needs_elevation: bool
    ok: bool
    how_to_elevate: str
    store: str  # the store's description, so the page can say which store needs it


class RelaunchOutcome(StrEnum):
    STARTED = "started"  # the elevated copy is running: this one should quit
    CANCELLED = "cancelled"  # the user said No to UAC: stay, nothing is wrong
    FAILED = "failed"


@dataclass(frozen=True)
class RelaunchResult:
    outcome: RelaunchOutcome
    code: int  # ShellExecuteW's return value (> 32 is success)
    last_error: int


def _load_shell32() -> tuple[Shell32, Callable[[], int]]:
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        dll = ctypes.WinDLL("shell32", use_last_error=True)
        dll.ShellExecuteW.argtypes = (
            wintypes.HWND,
            wintypes.LPCWSTR,
            wintypes.LPCWSTR,
            wintypes.LPCWSTR,
            wintypes.LPCWSTR,
            ctypes.c_int,
        )
        dll.ShellExecuteW.restype = ctypes.c_void_p  # HINSTANCE: None stands for 0
        return cast(Shell32, dll), ctypes.get_last_error
    raise OSError("shell32 exists only on Windows")


def is_elevated(shell32: Shell32 | None = None) -> bool:
    """Administrator (Windows, elevated token) or root (POSIX)."""
    if shell32 is not None:
        return bool(shell32.IsUserAnAdmin())
    if sys.platform == "win32":
        return bool(_load_shell32()[0].IsUserAnAdmin())
    return os.geteuid() == 0


def how_to_elevate(platform: str = sys.platform) -> str:
    return HOW_TO_ELEVATE.get(platform, HOW_TO_ELEVATE_ELSEWHERE)


def elevation_check(
    store: CertStore,
    *,
    elevated: Callable[[], bool] = is_elevated,
    platform: str = sys.platform,
) -> ElevationStatus:
    """Elevation matters only when the configured store needs it."""
    needs = store.needs_elevation()
    is_admin = elevated()
    return ElevationStatus(
        elevated=is_admin,
        store_needs_elevation=needs,
        ok=is_admin or not needs,
        how_to_elevate=how_to_elevate(platform),
        store=store.description,
    )


def restart_as_admin_command(command: Sequence[str] | None = None) -> tuple[str, str]:
    """(file, parameters) for ShellExecuteW: this program again, with the same arguments.

    Frozen builds re-run their exe; from source, the interpreter re-runs `sys.orig_argv` (so
    `python -m ecmt.cli …` and script launchers both repeat themselves). Parameters are
    quoted the way the MSVC runtime splits them.
    """
    if command is None:
        rest = sys.argv[1:] if getattr(sys, "frozen", False) else sys.orig_argv[1:]
        command = [sys.executable, *rest]
    return command[0], subprocess.list2cmdline(command[1:])


def relaunch_elevated(
    command: Sequence[str] | None = None,
    *,
    shell32: Shell32 | None = None,
    last_error: Callable[[], int] | None = None,
) -> RelaunchResult:
    """Ask UAC to start an elevated copy. A refused prompt is CANCELLED, not an exception.

    ShellExecuteW answers SE_ERR_ACCESSDENIED (5) when UAC is refused; only GetLastError()
    tells a refusal (1223) from a real failure.
    """
    if shell32 is None:
        shell32, last_error = _load_shell32()
    file, params = restart_as_admin_command(command)
    code = int(shell32.ShellExecuteW(None, "runas", file, params, None, SW_SHOWNORMAL) or 0)
    if code > 32:
        return RelaunchResult(RelaunchOutcome.STARTED, code, 0)
    error = last_error() if last_error is not None else 0
    outcome = RelaunchOutcome.CANCELLED if error == ERROR_CANCELLED else RelaunchOutcome.FAILED
    return RelaunchResult(outcome, code, error)
