"""Fixtures: a template data folder per session, and a fresh real server per test."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support import Harness, make_template, start_harness


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`posix` tests check file modes, signals or root: Windows has none of them."""
    if sys.platform != "win32":
        return
    skip = pytest.mark.skip(reason="POSIX file modes, signals or root")
    for item in items:
        if item.get_closest_marker("posix"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("template") / "data")


@pytest.fixture
def server_factory(template_dir: Path, tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    started: list[Harness] = []

    def start(**overrides: Any) -> Harness:
        harness = start_harness(template_dir, tmp_path / f"server{len(started)}", **overrides)
        started.append(harness)
        return harness

    yield start
    for harness in started:
        harness.thread.stop()


@pytest.fixture
def server(server_factory: Callable[..., Harness]) -> Harness:
    return server_factory()
