"""Fixtures: a template data folder per session, and a fresh real server per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support import Harness, make_template, start_harness


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
