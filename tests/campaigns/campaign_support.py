"""Settings shared by the campaigns: scale, seed, where the figures go."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES_FILE = Path(
    os.environ.get("ECMT_CAMPAIGN_FIGURES") or ROOT / "build" / "campaigns" / "figures.json"
)


def scale() -> int:
    """ECMT_FUZZ_SCALE multiplies every fuzz count (1 in CI; more for a nightly run)."""
    try:
        value = int(os.environ.get("ECMT_FUZZ_SCALE", "1"))
    except ValueError:
        raise pytest.UsageError("ECMT_FUZZ_SCALE must be a whole number") from None
    return max(1, value)


def base_seed() -> int:
    """ECMT_FUZZ_SEED varies the inputs (a nightly run may use the date); fixed by default."""
    return int(os.environ.get("ECMT_FUZZ_SEED", "20261130"))


def stop_server(harness: Any) -> None:
    """Stop a campaign's reference server once the connections its clients closed are gone
    on its side too (a campaign ends with a burst of requests; stopping the event loop
    while it still holds their sockets would leave them unclosed). Bounded: 5 s."""
    runner = getattr(harness.thread, "_runner", None)
    deadline = time.monotonic() + 5
    while runner is not None and runner.server is not None and time.monotonic() < deadline:
        if not runner.server.connections:
            break
        time.sleep(0.05)
    harness.thread.stop()
