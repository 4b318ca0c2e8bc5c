"""Fixtures for the end-to-end suite: a fresh virtual desktop per test, the reference
server as its own process, and a picture of the screen beside the test report when a
test fails (test-reports/e2e/<test>.png, with the accessibility tree in <test>.txt)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from desktop_harness import (
    CCMS_SERVER,
    EcmtProcess,
    Keyboard,
    Screen,
    VirtualDesktop,
    missing_tools,
    start_ecmt,
)

from support import IN_CI

REPORTS = Path(__file__).resolve().parents[2] / "test-reports" / "e2e"

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "e2e" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def e2e_tools() -> None:
    missing = missing_tools()
    if missing:
        message = f"the end-to-end suite needs {', '.join(missing)} (.ci/run installs them)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Session:
    """One test's desktop: the screen read back, the keyboard, and where its files go."""

    desktop: VirtualDesktop
    screen: Screen
    keys: Keyboard
    folder: Path
    name: str
    captured: list[Path] = field(default_factory=list)

    @contextlib.contextmanager
    def run(
        self,
        args: Sequence[str],
        env: Mapping[str, str] | None = None,
        executable: Path | None = None,
    ) -> Iterator[EcmtProcess]:
        """`ecmt ARGS` on this desktop; on a failure, the screen is kept before it closes."""
        extra = {} if executable is None else {"executable": executable}
        app = start_ecmt(self.desktop, args, self.folder / "ecmt.out", env or {}, **extra)
        try:
            yield app
        except BaseException:
            self.capture()
            raise
        finally:
            app.stop()

    def capture(self) -> None:
        """The screen and the accessibility tree, beside the test report."""
        if self.captured:
            return
        with contextlib.suppress(Exception):  # the picture must never hide the failure
            picture = REPORTS / f"{self.name}.png"
            self.desktop.screenshot(picture)
            self.screen.nodes()
            picture.with_suffix(".txt").write_text(self.screen.dump())
            self.captured.append(picture)


def _desktop(
    tmp_path: Path, request: pytest.FixtureRequest, size: tuple[int, int]
) -> Iterator[Session]:
    desktop = VirtualDesktop(tmp_path / "home", size).start()
    screen = Screen(desktop)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    session = Session(desktop, screen, Keyboard(desktop), tmp_path, name)
    request.node.e2e_session = session
    try:
        yield session
    finally:
        screen.close()
        desktop.stop()


@pytest.fixture
def desk(e2e_tools: None, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Session]:
    yield from _desktop(tmp_path, request, (1280, 1024))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    session: Session | None = getattr(item, "e2e_session", None)
    if report.when != "call" or not report.failed or session is None:
        return
    session.capture()  # when the app was still up, `Session.run` has already kept it
    for picture in session.captured:
        report.sections.append(("screenshot", f"{picture} (and {picture.with_suffix('.txt')})"))
    for output in session.folder.glob("*.out"):  # what the app printed
        report.sections.append((f"output of {output.name}", output.read_text()[-4000:]))


# --- the reference server as its own process ----------------------------------------------


@dataclass
class DemoServer:
    process: subprocess.Popen[str]
    url: str
    trust_anchor: str
    epoc: str
    pin: str
    data_dir: Path

    def admin(self, *args: str) -> str:
        done = subprocess.run(
            [str(CCMS_SERVER), *args, "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    def client_config(self, home: Path, store: str) -> Path:
        """The per-user settings file a practice's IT would write for plain `ecmt`."""
        keys = json.loads((self.data_dir / "release-public-key.json").read_text())["keys"]
        lines = [
            f'server_url = "{self.url}"',
            f'trust_anchors = ["{self.trust_anchor}"]',
            f'store = "{store}"',
        ]
        for key in keys:
            lines += [
                "[[release_keys]]",
                f'keyid = "{key["keyid"]}"',
                f'public_key = "{key["public_key"]}"',
            ]
        path = home / ".config" / "ecmt" / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
        return path


@contextlib.contextmanager
def demo_server(folder: Path, **settings: str) -> Iterator[DemoServer]:
    """`ccms-server demo --data-dir DIR` with CCMS_* settings, as an operator starts it."""
    data_dir = folder / "server"
    env = {**os.environ, **{f"CCMS_{k.upper()}": v for k, v in settings.items()}}
    process = subprocess.Popen(
        [str(CCMS_SERVER), "demo", "--data-dir", str(data_dir), "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = json.loads(process.stdout.readline())
        yield DemoServer(
            process, line["url"], line["trust_anchor"], line["epoc"], line["pin"], data_dir
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
