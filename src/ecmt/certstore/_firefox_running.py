"""Is Firefox running with this profile? Firefox keeps the profile's certificate database
open and may write it back when it quits, undoing a change made meanwhile.

Three signs, any one is enough (Linux):
- `.parentlock` carries a POSIX write lock while Firefox runs (asked with F_GETLK, which
  changes nothing and names the holder);
- `lock` is a symbolic link to "ADDRESS:+PID"; a link left by a crash names a process
  that is gone or is not Firefox, and does not count;
- a process named firefox* holds a file in the profile open, or names it on its command
  line (`/proc/PID/fd`, `/proc/PID/cmdline`).
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

PROC = Path("/proc")
_FLOCK = "hhqqi"  # struct flock on Linux: l_type, l_whence, l_start, l_len, l_pid


def firefox_using(profile: Path, proc: Path = PROC) -> int | None:
    """The process id of a Firefox that has `profile` open, or None."""
    if not sys.platform.startswith("linux"):
        return None
    return _lock_holder(profile) or _lock_link(profile, proc) or _open_in(profile, proc)


def _lock_holder(profile: Path) -> int | None:
    import fcntl  # POSIX only: this module is imported on Windows too

    try:
        fd = os.open(profile / ".parentlock", os.O_RDWR)
    except OSError:
        return None
    try:
        asked = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, asked)
        kind, _whence, _start, _length, pid = struct.unpack(_FLOCK, answer)
    except (OSError, struct.error):
        return None
    finally:
        os.close(fd)
    return pid if kind != fcntl.F_UNLCK and pid > 0 else None


def _lock_link(profile: Path, proc: Path) -> int | None:
    try:
        target = str((profile / "lock").readlink())
    except OSError:
        return None
    _address, _, number = target.rpartition(":+")
    if not number.isdigit():
        return None
    pid = int(number)
    return pid if _is_firefox(proc / number) else None


def _open_in(profile: Path, proc: Path) -> int | None:
    folder = str(profile.resolve())
    for entry in _processes(proc):
        if not _is_firefox(entry):
            continue
        if _names(entry, folder) or _holds_file_in(entry, folder):
            return int(entry.name)
    return None


def _processes(proc: Path) -> list[Path]:
    try:
        return [p for p in proc.iterdir() if p.name.isdigit()]
    except OSError:
        return []


def _is_firefox(entry: Path) -> bool:
    """A live process named firefox* (the Snap's and the Flatpak's too), not a zombie."""
    try:
        name = (entry / "comm").read_text(encoding="utf-8", errors="replace").strip()
        state = (entry / "stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    exited = state.rpartition(")")[2].split()[:1] in (["Z"], ["X"])
    return not exited and (name.startswith("firefox") or name == "GeckoMain")


def _names(entry: Path, folder: str) -> bool:
    try:
        arguments = (entry / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(os.fsdecode(a).rstrip("/") == folder for a in arguments)


def _holds_file_in(entry: Path, folder: str) -> bool:
    try:
        descriptors = list((entry / "fd").iterdir())
    except OSError:  # another user's process: not ours to read
        return False
    for fd in descriptors:
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target == folder or target.startswith(folder + "/"):
            return True
    return False
