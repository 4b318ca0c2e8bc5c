"""R-2's "Download and install version X" against the real reference server: the package
published with `ccms-server release publish --artifact-file`, offered by the verified
manifest, downloaded over TLS by the page, checked, and handed to a recording launcher
(which stands for msiexec through UAC)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWizard

from ccms_server import cli as server_cli
from ecmt import __version__
from ecmt.domain.errors import ErrorCode
from ecmt.services.update import LaunchOutcome, LaunchResult, UpdatePackage
from ecmt.ui import update_panel
from ecmt.ui.pages.base import PageId
from ecmt.ui.pages.version import VersionPage
from ecmt.ui.session import WizardSession
from ecmt.ui.wizard import RenewalWizard
from support import Harness, release_keys

WAIT = 60_000


def publish(server: Harness, folder: Path, platform: str, package: bytes, serial: int = 1) -> str:
    """Sign and publish version 999.0.0 with one package, as the operator's guide says;
    returns the SHA-256 the manifest states."""
    path = folder / "ecmt-999.0.0.msi"
    path.write_bytes(package)
    digest = hashlib.sha256(package).hexdigest()
    url = f"{server.url}/ccms/v1/releases/{path.name}"
    manifest = folder / "manifest.json"
    data = ["--data-dir", str(server.data_dir)]
    artifact = f"{platform},msi,{url},{digest},{len(package)}"
    sign = ["release", "sign", *data, "--latest-version", "999.0.0", "--serial", str(serial),
            "--minimum-version", __version__, "--notes", "Faster start.",
            "--artifact", artifact, "--out", str(manifest)]  # fmt: skip
    assert server_cli.main(sign) == 0
    assert (
        server_cli.main(["release", "publish", *data, str(manifest), "--artifact-file", str(path)])
        == 0
    )
    return digest


@pytest.fixture
def keyed(server: Harness, session_for: Any) -> WizardSession:
    return session_for(server, release_keys=release_keys(server))


@dataclass
class Launcher:
    """Records the verified package instead of starting msiexec, and the program's quit."""

    packages: list[UpdatePackage] = field(default_factory=list)
    quits: int = 0

    def launch(self, package: UpdatePackage) -> LaunchResult:
        self.packages.append(package)
        return LaunchResult(LaunchOutcome.STARTED, package.path)

    def quit(self) -> None:
        self.quits += 1


@pytest.fixture
def launcher(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Launcher:
    fake = Launcher()
    monkeypatch.setattr(update_panel, "launch", fake.launch)
    monkeypatch.setattr(QApplication, "quit", staticmethod(fake.quit))
    temp = tmp_path / "temp"  # where the download's private folder is made
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return fake


def open_version_page(qtbot: Any, session: WizardSession) -> tuple[RenewalWizard, VersionPage]:
    wizard = RenewalWizard(session)
    qtbot.addWidget(wizard)
    wizard.setStartId(int(PageId.VERSION))
    wizard.show()
    page = wizard.page_of(PageId.VERSION)
    assert isinstance(page, VersionPage)
    qtbot.waitUntil(lambda: not page.busy, timeout=WAIT)
    return wizard, page


def next_enabled(wizard: RenewalWizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def test_r2_downloads_the_offered_version_checks_it_and_starts_its_installer(
    qtbot, server, keyed, tmp_path, launcher
):
    package = os.urandom(400_000)
    digest = publish(server, tmp_path, keyed.app.release.platform, package)
    wizard, page = open_version_page(qtbot, keyed)
    panel = page.update_panel
    assert keyed.release is not None
    assert keyed.release.verdict == "offer"
    assert panel.isVisible()
    assert panel.start.accessibleName() == "Download and install version 999.0.0"
    assert page.digest.text() == digest

    progress: list[int] = []
    panel.bar.valueChanged.connect(progress.append)
    qtbot.mouseClick(panel.start, Qt.MouseButton.LeftButton)
    assert not next_enabled(wizard)  # no Next while the package is on its way
    qtbot.waitUntil(lambda: bool(launcher.packages), timeout=WAIT)

    (got,) = launcher.packages
    assert got.path.read_bytes() == package
    assert got.artifact.sha256 == digest
    assert got.version == "999.0.0"
    assert progress[-1] == 1000
    assert "The installer has started" in panel.outcome.text.text()
    assert launcher.quits == 1  # the program closes so the installer can replace it
    assert not page.errors.isVisible()
    got.discard()


def test_r2_refuses_a_package_that_is_not_the_announced_one(
    qtbot, server, keyed, tmp_path, launcher
):
    package = os.urandom(200_000)
    publish(server, tmp_path, keyed.app.release.platform, package)
    served = server.data_dir / "releases" / "ecmt-999.0.0.msi"
    served.write_bytes(package[:-1] + bytes([package[-1] ^ 0xFF]))  # one byte changed
    wizard, page = open_version_page(qtbot, keyed)
    panel = page.update_panel
    qtbot.mouseClick(panel.start, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy, timeout=WAIT)

    assert launcher.packages == []  # nothing ran
    assert launcher.quits == 0
    assert page.errors.isVisible()
    assert page.errors.error is not None
    assert page.errors.error.code is ErrorCode.UPDATE_TAMPERED
    assert "Error code: ECMT-UPDATE-TAMPERED" in page.errors.facts.text()
    assert panel.outcome.text.text() == "The new version was not installed."
    assert list((tmp_path / "temp").iterdir()) == []  # the file was deleted
    assert next_enabled(wizard)  # an offer: the user may still carry on
    assert panel.start.isEnabled()


def test_the_overview_offers_the_same_download(qtbot, server, keyed, tmp_path, launcher):
    """The overview (what opens when nothing needs renewing) checks the signed manifest
    too, says that a newer version exists, and installs it the way R-2 does."""
    from ecmt.ui.overview import OverviewWindow

    package = os.urandom(150_000)
    digest = publish(server, tmp_path, keyed.app.release.platform, package)
    window = OverviewWindow(keyed, lambda: None)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(window.update_row.isVisible, timeout=WAIT)
    assert window.update_row.note.text.text() == "A newer version, 999.0.0, is available."
    panel = window.update_row.panel
    qtbot.mouseClick(panel.start, Qt.MouseButton.LeftButton)
    assert not window.renew_button.isEnabled()  # no renewal while the package comes
    qtbot.waitUntil(lambda: bool(launcher.packages), timeout=WAIT)
    (got,) = launcher.packages
    assert got.artifact.sha256 == digest
    assert launcher.quits == 1
    got.discard()


def test_the_overview_says_nothing_when_this_is_the_newest_version(
    qtbot, server, keyed, tmp_path, launcher
):
    from ecmt.ui.overview import OverviewWindow
    from support import publish_release

    publish_release(server, 1, __version__, __version__)
    window = OverviewWindow(keyed, lambda: None)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.update_row.release is not None, timeout=WAIT)
    assert window.update_row.release.verdict == "fine"
    assert not window.update_row.isVisible()
