"""Event-loop stalls during a renewal in the wizard: the longest time the window could not
respond, from the log-on step to the Done page, walked like a user against the in-process
demo service (`ecmt --demo`), offscreen.

A 10 ms precise QTimer on the GUI thread notes when it fires (`StallProbe` in
tests/ui/walk_helpers.py, the same walk and probe as tests/ui/test_stall.py); the longest
gap between two ticks is the figure. Beside it, two floors measured in the same run: the
probe on an idle event loop (timer jitter), and the probe while a worker thread opens a
PKCS#12 file (`ecmt.pkcs12.open_`, which the install and the backup both do to verify what
they wrote; cryptography holds the GIL while it loads, so the GUI thread waits).

    .venv/bin/python bench/wizard_stall.py [--quick] [--runs N] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ui"))  # walk_helpers: the walk the tests use

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from PySide6.QtCore import QtMsgType, qInstallMessageHandler  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from walk_helpers import Backup, StallProbe, StallReport, renewal_stall, wait_until  # noqa: E402

from _common import load_average, machine, progress, write_section  # noqa: E402
from ecmt import pkcs12  # noqa: E402
from ecmt.app import build_app  # noqa: E402
from ecmt.domain.models import BackupFormat  # noqa: E402
from ecmt.logsetup import configure  # noqa: E402
from ecmt.ui import tasks  # noqa: E402
from ecmt.ui.demo import start_demo  # noqa: E402
from ecmt.ui.pages.base import PageId  # noqa: E402
from ecmt.ui.session import WizardSession  # noqa: E402
from ecmt.ui.wizard import RenewalWizard  # noqa: E402

LIMIT_MS = 250  # tests/ui/test_stall.py fails above this
WIZARD_SIZE = (800, 620)  # as in the screenshots
FLOOR_SAMPLES = 5


@dataclass
class Run:
    report: StallReport
    walk_seconds: float


def isolate(home: Path) -> list[str]:
    """No ECMT_* variables and no config files of this machine or user: only the demo's
    settings count, and the keyring is never touched."""
    dropped = sorted(name for name in os.environ if name.startswith("ECMT_"))
    for name in dropped:
        del os.environ[name]
    for variable, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CONFIG_DIRS", "etc"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        os.environ[variable] = str(home / sub)
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return dropped


def walk_once(folder: Path) -> Run:
    """A fresh demo (its own server, account, PIN and store), the wizard from R-1 to Done:
    PIN, terms, request, a backup in the default format; the probe from R-3 to Done."""
    environment = start_demo(folder)
    try:
        settings = environment.settings
        session = WizardSession(
            build_app(settings), configure(settings.log_dir), environment.letter
        )
        wizard = RenewalWizard(session)
        wizard.resize(*WIZARD_SIZE)
        wizard.show()
        started = time.perf_counter()
        report = renewal_stall(
            wizard,
            pin=environment.pin,
            epoc=environment.epoc,
            backup=Backup(folder / "backups", "bench.p12"),
        )
        seconds = time.perf_counter() - started
        if wizard.currentId() != PageId.DONE or session.result is None or session.backup is None:
            raise RuntimeError(f"the walk did not finish (page {wizard.currentId()})")
        wizard.close()
        wizard.deleteLater()
        tasks.wait_all()
        QApplication.processEvents()
        return Run(report, seconds)
    finally:
        environment.close()


def idle_floor(duration_ms: int) -> float:
    """The probe's longest gap on an event loop with nothing else to do."""
    probe = StallProbe()
    probe.start()
    until = time.perf_counter() + duration_ms / 1000
    wait_until(lambda: time.perf_counter() >= until, timeout=duration_ms + 10_000)
    probe.stop()
    return probe.report().longest_ms


def sample_pkcs12() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return pkcs12.build(key, cert, [], "bench", b"Bench2027", BackupFormat.LEGACY)


def pkcs12_floor(data: bytes) -> float:
    """The probe's longest gap while a worker thread opens one PKCS#12 file."""
    done = threading.Event()

    def work() -> None:
        pkcs12.open_(data, b"Bench2027")
        done.set()

    probe = StallProbe()
    probe.start()
    worker = threading.Thread(target=work)
    worker.start()
    wait_until(done.is_set, timeout=60_000)
    worker.join()
    wait_until(lambda: len(probe.ticks) >= 3, timeout=10_000)  # one tick after it, at least
    probe.stop()
    return probe.report().longest_ms


def floors(data: bytes) -> tuple[list[float], list[float]]:
    idle = [idle_floor(300) for _ in range(FLOOR_SAMPLES)]
    opened = [pkcs12_floor(data) for _ in range(FLOOR_SAMPLES)]
    return idle, opened


def ms(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}"


def section(
    args: argparse.Namespace,
    runs: list[Run],
    warm_up: Run,
    before: tuple[list[float], list[float]],
    after: tuple[list[float], list[float]],
) -> str:
    longest = [r.report.longest_ms for r in runs]
    idle = before[0] + after[0]
    opened = before[1] + after[1]
    where = Counter(r.report.where for r in runs).most_common()
    table = "\n".join(
        [
            "| what | samples | longest gap, median (ms) | min (ms) | max (ms) |",
            "|---|---:|---:|---:|---:|",
            f"| renewal walk, R-3 to Done | {len(runs)} | {ms(longest)} | {min(longest):.0f} | "
            f"{max(longest):.0f} |",
            f"| floor: idle event loop | {len(idle)} | {ms(idle)} | {min(idle):.0f} | "
            f"{max(idle):.0f} |",
            f"| floor: `pkcs12.open_` on a worker thread | {len(opened)} | {ms(opened)} | "
            f"{min(opened):.0f} | {max(opened):.0f} |",
        ]
    )
    per_run = ", ".join(f"{r.report.longest_ms:.0f} ms ({r.report.where})" for r in runs)
    ratio = statistics.median(longest) / statistics.median(opened)
    walk = statistics.median(r.walk_seconds for r in runs)
    ticks = statistics.median(r.report.ticks for r in runs)
    return (
        "## Wizard event-loop stalls (`bench/wizard_stall.py`)\n\n"
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{'quick' if args.quick else 'full'} profile, on {machine()}; "
        f"load average {load_average()}.\n\n"
        "- The real `RenewalWizard`, offscreen (`QT_QPA_PLATFORM=offscreen`), against the "
        "in-process demo service of `ecmt --demo` (`ecmt.ui.demo.start_demo`: TLS on "
        "127.0.0.1, argon2id at its production defaults, a files store); a fresh demo for "
        "every run.\n"
        "- The walk (`tests/ui/walk_helpers.py`, as `tests/ui/test_stall.py`): Next on R-1 "
        "and R-2, EPOC and PIN typed on R-3 and Log on, Request and download on R-4, I accept "
        "on R-5, R-6 by itself, on R-7 Yes with folder, file name and password typed and the "
        "default format (works everywhere), then Next to Done. Mouse clicks and key presses "
        "are QTest events, on the GUI thread like a user's.\n"
        "- The probe: a 10 ms `Qt.PreciseTimer` on the GUI thread from the moment R-3 is "
        "shown until Done has settled; the figure is the longest gap between two ticks "
        "(10 ms means never late). Page names say where the gap began and ended.\n"
        f"- One untimed warm-up walk first (its longest gap: "
        f"{warm_up.report.longest_ms:.0f} ms, at {warm_up.report.where}); the floors "
        f"{FLOOR_SAMPLES} times before the walks and {FLOOR_SAMPLES} times after.\n"
        "- Re-run: `.venv/bin/python bench/wizard_stall.py --write docs/benchmarks.md`.\n\n"
        f"{table}\n\n"
        f"Longest gap of each walk: {per_run}. Median walk R-3 to Done {walk:.2f} s, "
        f"{ticks:.0f} ticks.\n\n"
        f"**Longest gap: median {statistics.median(longest):.0f} ms, max {max(longest):.0f} ms "
        f"(the test fails above {LIMIT_MS} ms); {ratio:.2f}x the PKCS#12 floor.**\n\n"
        "How to read it: the walk's gaps come from work that holds the GIL while the GUI "
        "thread wants it. Key generation, argon2id on the demo server and the network "
        "release it; loading a PKCS#12 file does not (the files store opens its PKCS#12 "
        "files to find a certificate and to verify an install, and the backup is read back "
        "before it is called done), so a walk's longest gap is expected near one or two "
        "PKCS#12 floors. Most often the longest gap was at "
        f"{where[0][0]} ({where[0][1]} of {len(runs)} walks).\n"
    )


def quiet_offscreen(kind: QtMsgType, context: object, message: str) -> None:
    """The offscreen platform warns on every window it sizes; everything else is shown."""
    if "does not support propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 walks instead of 7")
    parser.add_argument("--runs", type=int, help="number of timed walks")
    parser.add_argument(
        "--write", metavar="FILE", type=Path, help="replace (or add) this section in FILE"
    )
    args = parser.parse_args(argv)
    count = args.runs or (3 if args.quick else 7)
    work = Path(tempfile.mkdtemp(prefix="ecmt-stall-"))
    isolate(work / "home")
    qInstallMessageHandler(quiet_offscreen)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ecmt-bench")
    try:
        data = sample_pkcs12()
        progress("floors before the walks")
        before = floors(data)
        progress("warm-up walk")
        warm_up = walk_once(work / "warm-up")
        runs: list[Run] = []
        for i in range(count):
            run = walk_once(work / f"run{i}")
            progress(f"walk {i + 1}/{count}: {run.report}")
            runs.append(run)
        progress("floors after the walks")
        after = floors(data)
    finally:
        tasks.wait_all()
        shutil.rmtree(work, ignore_errors=True)
    text = section(args, runs, warm_up, before, after)
    print(text)
    if args.write:
        write_section(args.write, "wizard_stall", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
