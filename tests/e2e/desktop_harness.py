"""A real desktop for the end-to-end tests: an X server (Xvfb), a session bus with the
accessibility bus, a window manager, real key presses (xdotool, through XTEST) and the
screen read back through AT-SPI, as a screen reader reads it.

The tests start `ecmt` exactly as a user does, as its own process; nothing here imports
ecmt or touches its objects. A failing test leaves a screenshot and the accessibility
tree beside the test report (test-reports/e2e/).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

PROBE = Path(__file__).with_name("atspi_probe.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # the one with Debian's python3-pyatspi
ECMT = Path(sys.executable).parent / "ecmt"
CCMS_SERVER = Path(sys.executable).parent / "ccms-server"
TOOLS = ("Xvfb", "xdotool", "dbus-daemon", "openbox")
AT_SPI_LAUNCHER = "/usr/libexec/at-spi-bus-launcher"
T = TypeVar("T")


def missing_tools() -> list[str]:
    """What this machine lacks for the suite (`.ci/run` installs all of it)."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not Path(AT_SPI_LAUNCHER).exists():
        missing.append("at-spi2-core")
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import pyatspi"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        missing.append("python3-pyatspi")
    return missing


@dataclass(frozen=True)
class Node:
    """One showing accessible object: what a screen reader would announce."""

    role: str
    name: str
    description: str
    text: str | None
    box: tuple[int, int, int, int] | None
    window: str
    depth: int
    focused: bool
    enabled: bool
    checked: bool
    active: bool
    default: bool

    @property
    def words(self) -> str:
        return self.text if self.text else self.name

    def __str__(self) -> str:
        flags = "".join(
            mark
            for mark, on in (
                ("*", self.focused),
                ("x", self.checked),
                ("-", not self.enabled),
                ("d", self.default),
                ("a", self.active),
            )
            if on
        )
        text = f" = {self.text!r}" if self.text and self.text != self.name else ""
        return f"{'  ' * self.depth}{self.role} {self.name!r}{text} {flags} {self.box}"


class StepTimeout(AssertionError):
    pass


class VirtualDesktop:
    """Xvfb + a session D-Bus + the AT-SPI bus + openbox, torn down in reverse."""

    def __init__(self, home: Path, size: tuple[int, int] = (1280, 1024)) -> None:
        self.home = home
        self.size = size
        self.processes: list[subprocess.Popen[bytes]] = []
        self.env: dict[str, str] = {}
        self.display = ""

    def start(self) -> VirtualDesktop:
        try:
            return self._start()
        except BaseException:
            self.stop()  # nothing of a half-started desktop is left running
            raise

    def _start(self) -> VirtualDesktop:
        self.home.mkdir(parents=True, exist_ok=True)
        tools = self._stand_in_scheduler()
        number = self._start_xvfb()
        self.display = f":{number}"
        env = {
            "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_RUNTIME_DIR": str(self._runtime_dir()),
            "DISPLAY": self.display,
            "LANG": "C.UTF-8",
        }
        bus = subprocess.run(
            ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        address, pid = bus.stdout.split()[:2]
        self._bus_pid = int(pid)
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        self.env = env
        self._spawn([AT_SPI_LAUNCHER, "--launch-immediately"])
        for _ in range(3):  # openbox sometimes loses a race with the new X server: retry
            window_manager = self._spawn(["openbox", "--sm-disable"], self.home / "openbox.log")
            if self._wait_for_window_manager(window_manager):
                return self
        log = (self.home / "openbox.log").read_text(errors="replace")
        raise RuntimeError(f"the window manager did not start: {log[-2000:]}")

    def _stand_in_scheduler(self) -> Path:
        """`crontab` and `systemctl` for this desktop only: the app's "Remind me" box
        would otherwise change this machine's real crontab. The stand-in crontab keeps
        what it is given in HOME/crontab, where tests read it."""
        tools = self.home / "tools"
        tools.mkdir(exist_ok=True)
        table = self.home / "crontab"
        crontab = tools / "crontab"
        crontab.write_text(
            "#!/bin/sh\n"
            f'if [ "$1" = "-l" ]; then\n'
            f'  [ -f "{table}" ] || {{ echo "no crontab for $(id -un)" >&2; exit 1; }}\n'
            f'  cat "{table}"; exit 0\n'
            "fi\n"
            f'cat > "{table}"\n'
        )
        systemctl = tools / "systemctl"
        systemctl.write_text("#!/bin/sh\nexit 1\n")  # no systemd user session here
        for tool in (crontab, systemctl):
            tool.chmod(0o755)
        return tools

    @property
    def crontab(self) -> str:
        table = self.home / "crontab"
        return table.read_text() if table.exists() else ""

    def _runtime_dir(self) -> Path:
        folder = self.home / "runtime"
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder

    def _spawn(self, argv: Sequence[str], log: Path | None = None) -> subprocess.Popen[bytes]:
        with (log or Path(os.devnull)).open("wb") as out:
            process = subprocess.Popen(argv, env=self.env, stdout=out, stderr=out)
        self.processes.append(process)
        return process

    def _start_xvfb(self) -> int:
        width, height = self.size
        for number in range(70, 140):
            if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
                continue
            process = subprocess.Popen(
                [
                    *("Xvfb", f":{number}", "-screen", "0", f"{width}x{height}x24"),
                    *("-nolisten", "tcp", "-noreset"),  # no reset when the last client goes
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(400):
                if Path(f"/tmp/.X11-unix/X{number}").exists() and self._answers(number):
                    self.processes.append(process)
                    return number
                if process.poll() is not None:
                    break
                time.sleep(0.025)
            process.kill()
            process.wait()
        raise RuntimeError("could not start Xvfb")

    @staticmethod
    def _answers(number: int) -> bool:
        """Whether the X server on :number accepts a client (its socket appears a moment
        before it does)."""
        probe = subprocess.run(
            ["xprop", "-display", f":{number}", "-root", "-len", "0", "_NET_WM_NAME"],
            capture_output=True,
            check=False,
        )
        return probe.returncode == 0

    def _wait_for_window_manager(self, process: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            found = subprocess.run(
                ["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"],
                env=self.env,
                capture_output=True,
                text=True,
                check=False,
            )
            if "window id" in found.stdout:
                return True
            time.sleep(0.05)
        return False

    def screenshot(self, path: Path) -> None:
        from PIL import ImageGrab

        path.parent.mkdir(parents=True, exist_ok=True)
        ImageGrab.grab(xdisplay=self.display).save(path)

    def stop(self) -> None:
        for process in reversed(self.processes):
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with contextlib.suppress(ProcessLookupError, AttributeError):
            os.kill(self._bus_pid, signal.SIGTERM)
        self.processes.clear()


class Screen:
    """What is on screen, read through AT-SPI by a long-lived probe process."""

    def __init__(self, desktop: VirtualDesktop, app: str = "ecmt") -> None:
        self.app = app
        self.desktop = desktop
        self._probe = subprocess.Popen(
            [SYSTEM_PYTHON, str(PROBE)],
            env={**desktop.env, "PYTHONPATH": ""},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.last: list[Node] = []

    def close(self) -> None:
        if self._probe.stdin:
            self._probe.stdin.close()
        try:
            self._probe.wait(5)
        except subprocess.TimeoutExpired:
            self._probe.kill()

    def nodes(self) -> list[Node]:
        assert self._probe.stdin
        assert self._probe.stdout
        self._probe.stdin.write(json.dumps({"app": self.app}) + "\n")
        self._probe.stdin.flush()
        answer = json.loads(self._probe.stdout.readline())
        if "error" in answer:
            return []
        self.last = [_node(raw) for raw in answer["nodes"]]
        return self.last

    def wait(self, find: Callable[[list[Node]], T | None], what: str, timeout: float = 30) -> T:
        """Read the screen until `find` returns something; fail naming `what`."""
        deadline = time.monotonic() + timeout
        while True:
            found = find(self.nodes())
            if found is not None and found is not False:
                return found
            if time.monotonic() > deadline:
                raise StepTimeout(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.15)

    def dump(self) -> str:
        return "\n".join(str(node) for node in self.last)


def _node(raw: Mapping[str, Any]) -> Node:
    box = raw.get("box")
    return Node(
        role=raw["role"],
        name=raw["name"] or "",
        description=raw.get("description") or "",
        text=raw.get("text"),
        box=tuple(box) if box else None,  # type: ignore[arg-type]
        window=raw.get("window") or "",
        depth=raw["depth"],
        focused=raw["focused"],
        enabled=raw["enabled"],
        checked=raw["checked"],
        active=raw["active"],
        default=raw["default"],
    )


# --- finding things on screen -------------------------------------------------------------


def find(
    nodes: list[Node], role: str, name: str | None = None, *, window: str | None = None
) -> Node | None:
    """The first showing node of `role` whose name is `name` (or contains it, when it
    ends with "…")."""
    for node in nodes:
        if node.role != role or (window is not None and node.window != window):
            continue
        if name is None or node.name == name or (name.endswith("…") and name[:-1] in node.name):
            return node
    return None


def words_on(nodes: list[Node], window: str | None = None) -> str:
    """All the words showing (in one window), one node a line."""
    return "\n".join(n.words for n in nodes if n.words and (window is None or n.window == window))


def focused(nodes: list[Node]) -> Node | None:
    """The node with the keyboard focus, in the active window (an inactive window keeps
    the focus state of the control it would give the focus back to)."""
    active = {n.name for n in nodes if n.depth == 1 and n.active}
    return next((n for n in nodes if n.focused and n.window in active), None)


class Keyboard:
    """Real key presses through XTEST, to whichever window has the focus."""

    def __init__(self, desktop: VirtualDesktop) -> None:
        self.env = desktop.env

    def press(self, *keys: str) -> None:
        for key in keys:
            subprocess.run(["xdotool", "key", "--clearmodifiers", key], env=self.env, check=True)
            time.sleep(0.08)

    def type(self, text: str) -> None:
        subprocess.run(
            ["xdotool", "type", "--clearmodifiers", "--delay", "25", text],
            env=self.env,
            check=True,
        )
        time.sleep(0.08)


@dataclass
class EcmtProcess:
    process: subprocess.Popen[bytes]
    log: Path

    def wait_exit(self, timeout: float = 30) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_ecmt(
    desktop: VirtualDesktop,
    args: Sequence[str],
    log: Path,
    extra_env: Mapping[str, str] = {},
    executable: Path = ECMT,
) -> EcmtProcess:
    """`ecmt ARGS` as a user starts it, on this desktop, with its own output file;
    `executable` is another build of it (the frozen one in dist/ecmt)."""
    env = {
        **desktop.env,
        "QT_QPA_PLATFORM": "xcb",
        "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1",  # what a running screen reader turns on
        # no keyring daemon runs on this desktop: the store's password goes to its file
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        **extra_env,
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(executable), *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return EcmtProcess(process, log)


@contextlib.contextmanager
def running(process: EcmtProcess) -> Iterator[EcmtProcess]:
    try:
        yield process
    finally:
        process.stop()
