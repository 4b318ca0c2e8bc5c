"""Desktop start-up: wall time from process start to the first wizard page on screen, and
peak memory, for `ecmt` and for a bare PySide6 QWizard with one page, in the same run.

Both run as real processes on a real X server (Xvfb); "on screen" is when the window
with the expected title is mapped, as `xdotool search --onlyvisible` sees it:
nothing inside the program is instrumented. Peak memory is the process's VmHWM
(high-water resident set) read from /proc at that moment.

    .venv/bin/python bench/wizard_startup.py [--quick] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import load_average, machine, write_section

ROOT = Path(__file__).resolve().parents[1]
ECMT = Path(sys.executable).parent / "ecmt"
WIZARD_TITLE = "Renew your ePractitioner certificate"
BASELINE_TITLE = "Baseline wizard"
BASELINE = f"""
import sys
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWizard, QWizardPage
app = QApplication(sys.argv)
wizard = QWizard()
wizard.setWindowTitle({BASELINE_TITLE!r})
page = QWizardPage()
page.setTitle("Step 1 of 7")
QVBoxLayout(page).addWidget(QLabel("Hello"))
wizard.addPage(page)
wizard.show()
sys.exit(app.exec())
"""


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """A fresh X server on a free display, once it accepts clients (its socket appears a
    moment before it does)."""
    for number in range(90, 140):
        display = f":{number}"
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        proc = subprocess.Popen(
            # -noreset: X servers reset when their last client leaves, and a client that
            # connects during the reset is refused; the polling below comes and goes
            ["Xvfb", display, "-screen", "0", "1280x1024x24", "-nolisten", "tcp", "-noreset"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            answers = subprocess.run(
                ["xprop", "-display", display, "-root", "-len", "0", "_NET_WM_NAME"],
                capture_output=True,
                check=False,
            )
            if answers.returncode == 0:
                return proc, display
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        proc.kill()
        proc.wait()
    raise SystemExit("could not start Xvfb")


def peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def measure(argv: list[str], title: str, env: dict[str, str]) -> tuple[float, int]:
    """Seconds until a visible window titled `title` exists, and VmHWM then (KiB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = started + 60
        while True:  # xdotool's own --sync polls only twice a second: poll here instead
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", title],
                env=env,
                capture_output=True,
                check=False,
            )
            if found.returncode == 0 and found.stdout.strip():
                break
            if proc.poll() is not None or time.perf_counter() > deadline:
                proc.kill()
                _, err = proc.communicate(timeout=10)
                raise SystemExit(f"no window {title!r} from {argv[0]}: {err.decode()[-800:]}")
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        memory = peak_kib(proc.pid)
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=10)
    if proc.returncode not in (-9, 0):
        raise SystemExit(f"{argv[0]} failed: {err.decode()[-500:]}")
    return elapsed, memory


def first_page_offers_next(ecmt_argv: list[str], home: Path) -> str:
    """The page that was timed, read back as a screen reader reads it (AT-SPI, through the
    end-to-end suite's harness): it must offer Next and not Finish. A faster start that
    breaks the first page is not faster."""
    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    from desktop_harness import Screen, VirtualDesktop, find, start_ecmt

    desktop = VirtualDesktop(home / "verify").start()
    screen = Screen(desktop)
    try:
        app = start_ecmt(desktop, ecmt_argv[1:], home / "verify.out")
        try:
            screen.wait(
                lambda nodes: find(nodes, "label", "Step 1 of 7 · R-1…"), "the first page", 60
            )
            next_button = screen.wait(
                lambda nodes: (n := find(nodes, "push button", "Next")) and n.enabled and n,
                "Next on the first page",
                60,
            )
            if find(screen.last, "push button", "Finish") is not None:
                raise SystemExit("the first page offers Finish: the timed start is broken")
        finally:
            app.stop()
    finally:
        screen.close()
        desktop.stop()
    return f"{next_button.name} (enabled), no Finish"


def client_env(display: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECMT_", "QT_"))}
    env.update(
        {
            "DISPLAY": display,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CONFIG_DIRS": str(home / "etc"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
    )
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    runs = 4 if args.quick else 10
    for tool in ("Xvfb", "xdotool"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (Debian packages xvfb, xdotool)")
    xvfb, display = start_xvfb()
    home = Path(tempfile.mkdtemp(prefix="ecmt-startup-"))
    try:
        env = client_env(display, home)
        # a store folder and an unreachable service: the wizard opens at its first step
        ecmt_argv = [
            str(ECMT),
            "--server",
            "https://127.0.0.1:9",
            "--store",
            f"files:{home / 'store'}",
        ]
        baseline_argv = [sys.executable, "-c", BASELINE]
        measure(ecmt_argv, WIZARD_TITLE, env)  # warm the page cache for both
        measure(baseline_argv, BASELINE_TITLE, env)
        results: dict[str, list[tuple[float, int]]] = {"ecmt": [], "baseline": []}
        for i in range(runs):
            order = [("ecmt", ecmt_argv, WIZARD_TITLE), ("baseline", baseline_argv, BASELINE_TITLE)]
            for name, argv, title in order if i % 2 == 0 else reversed(order):
                results[name].append(measure(argv, title, env))
        checked = first_page_offers_next(ecmt_argv, home)
    finally:
        xvfb.terminate()  # not kill: Xvfb then removes its socket and lock files
        xvfb.wait(10)
        shutil.rmtree(home, ignore_errors=True)

    def median(name: str, index: int) -> float:
        return statistics.median(r[index] for r in results[name])

    time_ratio = median("ecmt", 0) / median("baseline", 0)
    memory_ratio = median("ecmt", 1) / median("baseline", 1)
    table = "\n".join(
        [
            "| process | runs | to first page, median (ms) | min (ms) | peak RSS, median (MiB) |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {label} | {runs} | {median(name, 0) * 1000:.0f} | "
                f"{min(r[0] for r in results[name]) * 1000:.0f} | {median(name, 1) / 1024:.1f} |"
                for name, label in (
                    ("ecmt", "`ecmt` (wizard at R-1)"),
                    ("baseline", "bare PySide6 `QWizard`, one page"),
                )
            ),
        ]
    )
    text = (
        "## Desktop start-up (`bench/wizard_startup.py`)\n\n"
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{'quick' if args.quick else 'full'} profile, on {machine()}; "
        f"load average {load_average()}.\n\n"
        "- Both are real processes on Xvfb; the clock stops when a visible window with the "
        "expected title exists (polled with `xdotool search --onlyvisible` every few ms), "
        "and peak memory is "
        "the process's VmHWM at that moment. Runs alternate which goes first.\n"
        "- `ecmt` is started as a user starts it (no subcommand), with a files store and an "
        "unreachable service, so it opens the wizard at R-1 (the overview window comes after it).\n"
        "- The page that was timed is then read back through the accessibility tree (AT-SPI), "
        f"as the end-to-end suite reads it: **{checked}**.\n"
        "- Re-run: `.venv/bin/python bench/wizard_startup.py --write docs/benchmarks.md`.\n\n"
        f"{table}\n\n"
        f"**Ratios to the bare QWizard: time {time_ratio:.2f}x (aim 1.5x), "
        f"memory {memory_ratio:.2f}x (aim 1.3x).**\n"
    )
    print(text)
    if args.write:
        write_section(args.write, "wizard_startup", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
