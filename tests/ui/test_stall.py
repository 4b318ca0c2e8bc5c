"""The window stays responsive during a whole renewal: a 10 ms timer on the GUI thread keeps
firing from R-3 to Done, so no step does slow work (network, key generation, PKCS#12,
the store) on the GUI thread. bench/wizard_stall.py measures the same walk repeatedly."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot
from walk_helpers import Backup, StallProbe, renewal_stall

from ecmt import __version__
from ecmt.ui.pages.base import PageId
from ecmt.ui.session import WizardSession
from ecmt.ui.wizard import RenewalWizard
from support import Harness, release_keys
from support import publish_release as publish

LIMIT_MS = 250


def test_the_gui_thread_never_stalls_from_logon_to_done(
    qtbot: QtBot,
    server: Harness,
    session_for: Callable[..., WizardSession],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    publish(server, 1, __version__, __version__)
    session = session_for(server, release_keys=release_keys(server))
    epoc = server.add_account(accept_terms=False)  # R-5 is part of the walk
    pin = server.issue_pin(epoc)
    wizard = RenewalWizard(session)
    qtbot.addWidget(wizard)
    wizard.show()

    report = renewal_stall(
        wizard, pin=pin, epoc=epoc, wait=qtbot.waitUntil, backup=Backup(tmp_path / "backups")
    )

    with capsys.disabled():
        print(f"\nwizard stall probe: {report}")
    assert wizard.currentId() == PageId.DONE
    assert session.result is not None
    assert session.backup is not None
    assert report.ticks >= 10, "the probe hardly ran"
    assert report.longest_ms <= LIMIT_MS, str(report)


def test_the_probe_sees_a_stall(qtbot: QtBot) -> None:
    """The probe itself: a 300 ms block on the GUI thread shows up as a gap of >= 300 ms."""
    probe = StallProbe()
    blocked: list[bool] = []

    def block() -> None:
        time.sleep(0.3)  # the stall under test, on the GUI thread
        blocked.append(True)

    probe.start()
    QTimer.singleShot(30, block)
    qtbot.waitUntil(lambda: bool(blocked) and len(probe.ticks) > 10, timeout=5000)
    probe.stop()
    report = probe.report()
    assert 300 <= report.longest_ms < 1000, str(report)
    assert report.median_ms < 100
