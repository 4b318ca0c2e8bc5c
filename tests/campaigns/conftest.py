"""The reliability campaigns (fuzzing, crash points, fault injection) and their figures.

Each campaign records what it measured with the `figures` fixture; at the end of the
session the figures are written as JSON (`build/campaigns/figures.json`, or the file named
by ECMT_CAMPAIGN_FIGURES) and `python tests/campaigns/report.py` renders them into
docs/reliability.md. A section is replaced only by a session that ran it, so running one
campaign again updates its own figures and keeps the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from campaign_support import FIGURES_FILE, stop_server
from fuzz_targets import Wire

from support import Harness, make_template, start_harness

_FIGURES = pytest.StashKey[dict[str, Any]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_FIGURES] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every campaign test is marked, so `-m "not campaign"` leaves the campaigns out."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.campaign)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    ran = session.config.stash.get(_FIGURES, {})
    if not ran:
        return
    FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
    try:
        figures = json.loads(FIGURES_FILE.read_text())
    except (OSError, ValueError):
        figures = {}
    for section, value in ran.items():
        if isinstance(value, dict) and isinstance(figures.get(section), dict):
            figures[section].update(value)
        else:
            figures[section] = value
    FIGURES_FILE.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


@pytest.fixture(scope="session")
def figures(pytestconfig: pytest.Config) -> dict[str, Any]:
    """Sections of measured figures; tests add to them, the session writes them out."""
    return pytestconfig.stash[_FIGURES]


@pytest.fixture(scope="session")
def campaign_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """One real reference server over TLS for a whole campaign module set."""
    template = make_template(tmp_path_factory.mktemp("campaign-template") / "data")
    harness = start_harness(template, tmp_path_factory.mktemp("campaign-server") / "data")
    yield harness
    stop_server(harness)


@pytest.fixture(scope="session")
def wire(campaign_server: Harness) -> Wire:
    """Real bodies from one enrolment, the fuzz campaign's seeds (collected once)."""
    return Wire.collect(campaign_server)
