"""Which window `ecmt` opens first, decided before the store is read (ui/first_window.py),
and put right once it has been read; through `launch`, the function `ecmt` runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from ecmt.app import build_app
from ecmt.config_files import StartValues
from ecmt.ui import desktop as desktop_module
from ecmt.ui import first_window, tasks
from ecmt.ui.desktop import Desktop, launch
from support import Harness, client_settings

WAIT = 30_000


def test_the_hint_names_the_store_and_when_a_renewal_is_due(tmp_path: Path) -> None:
    later = datetime.now(UTC) + timedelta(days=200)
    first_window.remember(tmp_path, "files:/a", later)
    assert first_window.overview_first(tmp_path, "files:/a")
    assert not first_window.overview_first(tmp_path, "nss")  # another store: no guess
    assert not first_window.overview_first(tmp_path, "files:/a", later + timedelta(days=1))
    first_window.remember(tmp_path, "files:/a", None)  # due now: the wizard, and no hint
    assert not (tmp_path / first_window.HINT).exists()
    (tmp_path / first_window.HINT).write_text("{not json")
    assert not first_window.overview_first(tmp_path, "files:/a")


@pytest.fixture
def quiet_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test process keeps its own signal handlers and excepthook."""
    monkeypatch.setattr(desktop_module, "quit_on_signals", lambda qt_app: None)
    monkeypatch.setattr(desktop_module, "install_fatal_handler", lambda session: None)


def started(qtbot: QtBot, settings: object) -> Desktop:
    start = StartValues(settings.state_dir, settings.store)  # type: ignore[attr-defined]
    _qt_app, desktop = launch(lambda: settings, start=start)  # type: ignore[arg-type, return-value]
    for window in (desktop.wizard, desktop.overview):
        if window is not None:
            qtbot.addWidget(window)
    return desktop


def close(desktop: Desktop) -> None:
    tasks.wait_all()
    for window in (desktop.wizard, desktop.overview):
        if window is not None:
            window.hide()
    if desktop.session.source.built:
        desktop.session.app.close()


def test_a_valid_certificate_opens_the_overview_after_a_first_guess(
    qtbot: QtBot, server: Harness, tmp_path: Path, quiet_start: None
) -> None:
    settings = client_settings(server, tmp_path / "client")
    epoc = server.add_account()
    identity = server.new_identity(epoc)
    build_app(settings).store.install(identity.key, identity.cert, [], "ePractitioner")

    first = started(qtbot, settings)
    assert first.wizard is not None  # no hint yet: the wizard, at once
    qtbot.waitUntil(lambda: first.overview is not None and first.overview.isVisible(), timeout=WAIT)
    assert first.wizard is None  # given way: nothing had been done in it
    assert first_window.overview_first(settings.state_dir, settings.store)
    close(first)

    second = started(qtbot, settings)  # the next start remembers
    assert second.wizard is None
    assert second.overview is not None
    close(second)


def test_a_renewal_due_keeps_the_wizard(
    qtbot: QtBot, server: Harness, tmp_path: Path, quiet_start: None
) -> None:
    settings = client_settings(server, tmp_path / "client")
    first_window.remember(  # a stale hint: the store has nothing now
        settings.state_dir, settings.store, datetime.now(UTC) + timedelta(days=100)
    )
    desktop = started(qtbot, settings)
    assert desktop.overview is not None  # the hint's guess, at once
    qtbot.waitUntil(
        lambda: not (settings.state_dir / first_window.HINT).exists(), timeout=WAIT
    )  # read again: a renewal is due, and the next start opens the wizard
    close(desktop)
    again = started(qtbot, settings)
    assert again.wizard is not None
    close(again)
