"""UI fixtures: Qt offscreen, and a wizard session wired to the real reference server."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail

from ecmt.app import build_app
from ecmt.domain.errors import EcmtError
from ecmt.services import schedule
from ecmt.services.schedule import Installed, Job
from ecmt.ui import tasks
from ecmt.ui.session import WizardSession
from support import Harness, client_settings


class MemoryScheduler:
    """The OS scheduler for the desktop's reminder boxes: the real ones (systemd, cron,
    Task Scheduler, launchd) would change this machine; services/schedule.py and its
    own tests cover them. Records what the desktop asked for."""

    name = "memory"

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.refuse: EcmtError | None = None

    def install(self, job: Job) -> Installed:
        if self.refuse is not None:
            raise self.refuse
        self.jobs.append(job)
        return Installed(self.name, "in memory", True)

    def remove(self) -> bool:
        had = bool(self.jobs)
        self.jobs.clear()
        return had

    def status(self) -> Installed | None:
        if self.refuse is not None:
            raise self.refuse
        return Installed(self.name, "in memory", True) if self.jobs else None


@pytest.fixture(autouse=True)
def scheduler(monkeypatch: pytest.MonkeyPatch) -> MemoryScheduler:
    memory = MemoryScheduler()
    monkeypatch.setattr(schedule, "pick_scheduler", lambda *args, **kwargs: memory)
    return memory


@pytest.fixture
def session_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., WizardSession]]:
    """`session_for(server, **client_settings)` -> a WizardSession against that server."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    # the variable is read once per process: a backend chosen earlier would win over it
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    made: list[WizardSession] = []

    def make(server: Harness, **overrides: Any) -> WizardSession:
        folder = tmp_path / f"client{len(made)}"
        settings = client_settings(server, folder, **overrides)
        session = WizardSession(build_app(settings), folder / "logs" / "ecmt.log")
        made.append(session)
        return session

    yield make
    tasks.wait_all()
    for session in made:  # the kept-alive connections, before the server stops
        if session.source.built:
            session.app.close()
    keyring.set_keyring(before)


@pytest.fixture
def session(server: Harness, session_for: Callable[..., WizardSession]) -> WizardSession:
    return session_for(server)
