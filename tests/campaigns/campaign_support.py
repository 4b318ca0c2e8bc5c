"""Settings shared by the campaigns: scale, seed, where the figures go."""

from __future__ import annotations

import os
from pathlib import Path

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
