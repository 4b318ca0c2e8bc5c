"""Crash points: named places in a renewal where a test may kill this process outright.

With `ECMT_CRASH_AT=<name>` in the environment, `crash_point(<name>)` kills the process at
once (SIGKILL: no clean-up, no `finally`), as a power cut or the task manager would. The
crash-point campaign (tests/campaigns/test_crash_points.py) uses it to prove that every
such moment is recovered by running the renewal again. Unset, it does nothing.

The names, in the order a renewal passes them: key-generated, journal-saved,
answer-received, installed-unverified, verified, before-journal-clear.
"""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("ECMT_CRASH_AT") == name:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
