"""Frozen start-up: the PyInstaller build (dist/ecmt) against a bare PySide6 QWizard frozen
by the same spec (installer/ecmt.spec: same excludes, same Qt plugins), measured as
bench/wizard_startup.py measures the installed program: real processes on Xvfb, the
clock stopped when the window is mapped, peak memory from /proc.

    bash installer/build.sh linux
    .venv/bin/python bench/frozen_startup.py [--quick] [--write docs/benchmarks.md]
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
from wizard_startup import BASELINE, BASELINE_TITLE, WIZARD_TITLE, client_env, measure, start_xvfb

ROOT = Path(__file__).resolve().parents[1]
FROZEN = ROOT / "dist" / "ecmt" / "ecmt"


def freeze_baseline(work: Path) -> Path:
    """The bare QWizard, through installer/ecmt.spec (about a minute)."""
    script = work / "baseline.py"
    script.write_text(BASELINE)
    version = (ROOT / "src" / "ecmt" / "__init__.py").read_text().split('"')[1]
    env = {
        **os.environ,
        "ECMT_VERSION": version,
        "ECMT_BUILD_ENTRY": str(script),
        "ECMT_BUILD_NAME": "baseline",
    }
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(work / "dist"), "--workpath", str(work / "build"),
         str(ROOT / "installer" / "ecmt.spec")],
        env=env,
        check=True,
    )  # fmt: skip
    return work / "dist" / "baseline" / "baseline"


def first_page_offers_next(frozen: Path, argv: list[str], home: Path) -> str:
    """The timed page read back through AT-SPI: Next, and no Finish."""
    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    from desktop_harness import Screen, VirtualDesktop, find, start_ecmt

    desktop = VirtualDesktop(home / "verify").start()
    screen = Screen(desktop)
    try:
        app = start_ecmt(desktop, argv, home / "verify.out", executable=frozen)
        try:
            screen.wait(lambda n: find(n, "label", "Step 1 of 7 · R-1…"), "the first page", 60)
            found = screen.wait(
                lambda n: (b := find(n, "push button", "Next")) and b.enabled and b,
                "Next on the first page",
                60,
            )
            if find(screen.last, "push button", "Finish") is not None:
                raise SystemExit("the frozen first page offers Finish")
        finally:
            app.stop()
    finally:
        screen.close()
        desktop.stop()
    return f"{found.name} (enabled), no Finish"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    runs = 4 if args.quick else 10
    if not FROZEN.is_file():
        raise SystemExit(f"no {FROZEN}: run `bash installer/build.sh linux` first")
    work = Path(tempfile.mkdtemp(prefix="ecmt-frozen-startup-"))
    xvfb = None
    try:
        baseline = freeze_baseline(work)
        xvfb, display = start_xvfb()
        home = work / "home"
        env = client_env(display, home)
        ecmt_args = ["--server", "https://127.0.0.1:9", "--store", f"files:{home / 'store'}"]
        commands = {
            "ecmt": ([str(FROZEN), *ecmt_args], WIZARD_TITLE),
            "baseline": ([str(baseline)], BASELINE_TITLE),
        }
        for argv, title in commands.values():
            measure(argv, title, env)  # warm the page cache
        results: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
        for i in range(runs):
            names = list(commands) if i % 2 == 0 else list(reversed(commands))
            for name in names:
                results[name].append(measure(*commands[name], env))
        checked = first_page_offers_next(FROZEN, ecmt_args, home)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
        shutil.rmtree(work, ignore_errors=True)

    def median(name: str, index: int) -> float:
        return statistics.median(r[index] for r in results[name])

    files = FROZEN.parent.rglob("*")
    size = sum(f.stat().st_size for f in files if f.is_file() and not f.is_symlink())
    rows = [
        f"| {label} | {runs} | {median(name, 0) * 1000:.0f} | "
        f"{min(r[0] for r in results[name]) * 1000:.0f} | {median(name, 1) / 1024:.1f} |"
        for name, label in (
            ("ecmt", "frozen `dist/ecmt/ecmt` (wizard at R-1)"),
            ("baseline", "frozen bare PySide6 `QWizard`, one page"),
        )
    ]
    text = (
        "## Frozen start-up (`bench/frozen_startup.py`)\n\n"
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{'quick' if args.quick else 'full'} profile, on {machine()}; "
        f"load average {load_average()}.\n\n"
        "- The PyInstaller build (`installer/build.sh linux`, "
        f"{size / 2**20:.0f} MiB on disk) against a bare QWizard frozen by the same spec; "
        "measured as in `bench/wizard_startup.py` (real processes on Xvfb, window mapped, "
        "VmHWM), runs alternating.\n"
        f"- The timed page, read back through AT-SPI: **{checked}**.\n"
        "- Re-run: `bash installer/build.sh linux && .venv/bin/python bench/frozen_startup.py "
        "--write docs/benchmarks.md`.\n\n"
        "| process | runs | to first page, median (ms) | min (ms) | peak RSS, median (MiB) |\n"
        "|---|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n\n"
        f"**Ratios to the frozen bare QWizard: time "
        f"{median('ecmt', 0) / median('baseline', 0):.2f}x, "
        f"memory {median('ecmt', 1) / median('baseline', 1):.2f}x.**\n"
    )
    print(text)
    if args.write:
        write_section(args.write, "frozen_startup", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
