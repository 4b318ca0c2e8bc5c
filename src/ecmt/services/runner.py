"""Running the operating system's own tools (schtasks, launchctl, systemctl, crontab,
notify-send, osascript) through one small port, so that tests can record the exact argv
where the real tool cannot run, and run the real one where it can.

Nothing secret ever goes on these command lines: they carry file names, task names and
the words of a reminder.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

NOT_FOUND = 127
TIMED_OUT = 124


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def said(self) -> str:
        """What the tool said, on one line, for a detail or a log line."""
        text = (self.stderr.strip() or self.stdout.strip()).replace("\n", " | ")
        return f"{self.argv[0]} exited {self.returncode}" + (f": {text[:300]}" if text else "")


class Runner(Protocol):
    def __call__(
        self, argv: Sequence[str], *, stdin: str | None = None, timeout: float = 60.0
    ) -> Completed:
        """Run argv to its end (or `timeout`); a missing program is returncode 127."""
        ...


class SubprocessRunner:
    """The real thing: no shell, output captured as text, a bounded wait."""

    def __call__(
        self, argv: Sequence[str], *, stdin: str | None = None, timeout: float = 60.0
    ) -> Completed:
        args = tuple(argv)
        try:
            done = subprocess.run(
                list(args),
                input=stdin,
                stdin=None if stdin is not None else subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError:
            return Completed(args, NOT_FOUND, "", f"{args[0]}: not found")
        except subprocess.TimeoutExpired:
            return Completed(args, TIMED_OUT, "", f"{args[0]}: no answer within {timeout:g} s")
        except OSError as exc:
            return Completed(args, NOT_FOUND, "", f"{args[0]}: {exc.strerror}")
        log.debug("ran %s -> %d", args[0], done.returncode)
        return Completed(args, done.returncode, done.stdout or "", done.stderr or "")
