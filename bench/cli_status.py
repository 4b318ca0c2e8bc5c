"""Headless start-up: `ecmt status --json` (a files store holding one certificate) against
`python -c "import cryptography.x509, requests"` in the same run, and `ecmt --version`
beside them. All are real processes; runs alternate which goes first.

`python -X importtime` of the status run is summarised (the slowest imports), so a figure
that misses its goal says what it is made of.

    .venv/bin/python bench/cli_status.py [--quick] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import load_average, machine, write_section

ECMT = Path(sys.executable).parent / "ecmt"
BASELINE = [sys.executable, "-c", "import cryptography.x509, requests"]


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed: {done.stderr.decode()[-500:]}")
    return elapsed


def isolated_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECMT_")}
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CONFIG_DIRS": str(home / "etc"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
    )
    return env


def one_certificate(store: Path, state: Path) -> None:
    """A files store with one certificate and key, as a renewal leaves it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from ecmt.certstore import FileStore
    from ecmt.secrets import KeyringSecrets
    from support import make_template, start_harness

    root = Path(tempfile.mkdtemp(prefix="ecmt-status-server-"))
    harness = start_harness(make_template(root / "template"), root / "server")
    try:
        epoc = harness.add_account()
        identity = harness.new_identity(epoc)
        FileStore(store, KeyringSecrets(state / "secrets")).install(
            identity.key, identity.cert, [], "ePractitioner"
        )
    finally:
        harness.thread.stop()


def importtime(argv: list[str], env: dict[str, str], top: int = 6) -> list[tuple[str, float]]:
    """The slowest top-level imports of one run, each followed by its own three slowest
    (indented): `-X importtime` lists an import's children just before it."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], env=env, capture_output=True, check=True
    )
    groups: list[tuple[str, float, list[tuple[str, float]]]] = []
    children: list[tuple[str, float]] = []
    for line in done.stderr.decode().splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, name = line.split("|")
        if not cumulative.strip().isdigit():
            continue
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        ms = int(cumulative) / 1000
        if depth == 1:
            children.append((name.strip(), ms))
        elif depth == 0:
            groups.append((name.strip(), ms, sorted(children, key=lambda c: -c[1])[:3]))
            children = []
    rows: list[tuple[str, float]] = []
    for name, ms, kids in sorted(groups, key=lambda g: -g[1])[:top]:
        rows.append((name, ms))
        rows += [("  " + kid, kid_ms) for kid, kid_ms in kids]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    runs = 7 if args.quick else 21
    home = Path(tempfile.mkdtemp(prefix="ecmt-status-"))
    env = isolated_env(home)
    store = home / "store"
    os.environ["PYTHON_KEYRING_BACKEND"] = env["PYTHON_KEYRING_BACKEND"]
    one_certificate(store, home / "state" / "ecmt")
    status = [str(ECMT), "status", "--json", "--store", f"files:{store}"]
    check = subprocess.run(status, env=env, capture_output=True, check=True)
    found = json.loads(check.stdout)["certificates"]
    if len(found) != 1:
        raise SystemExit(f"the status run found {len(found)} certificates, not 1")
    version = [str(ECMT), "--version"]
    commands = {"status": status, "baseline": BASELINE, "version": version}
    for argv in commands.values():
        timed(argv, env)  # warm the page cache
    results: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(runs):
        order = list(commands.items())
        for name, argv in order if i % 2 == 0 else reversed(order):
            results[name].append(timed(argv, env))
    med = {name: statistics.median(times) * 1000 for name, times in results.items()}
    slowest = importtime(status, env)
    ratio = med["status"] / med["baseline"]
    rows = "\n".join(
        f"| {label} | {runs} | {med[name]:.0f} | {min(results[name]) * 1000:.0f} |"
        for name, label in (
            ("status", "`ecmt status --json` (files store, one certificate)"),
            ("baseline", '`python -c "import cryptography.x509, requests"`'),
            ("version", "`ecmt --version`"),
        )
    )
    imports = "\n".join(
        f"| {'&nbsp;&nbsp;' if name.startswith(' ') else ''}`{name.strip()}` | {ms:.0f} |"
        for name, ms in slowest
    )
    text = (
        "## Headless start-up (`bench/cli_status.py`)\n\n"
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{'quick' if args.quick else 'full'} profile, on {machine()}; "
        f"load average {load_average()}.\n\n"
        "- Real processes, alternating; the status run reads a files store with one "
        "certificate (and finds it) with settings from an empty home.\n"
        "- Re-run: `.venv/bin/python bench/cli_status.py --write docs/benchmarks.md`.\n\n"
        "| process | runs | median (ms) | min (ms) |\n|---|---:|---:|---:|\n"
        f"{rows}\n\n"
        f"**Ratio of `ecmt status --json` to the import baseline: {ratio:.2f}x (aim 1.0x).**\n\n"
        "Where the status run's time goes (`python -X importtime`, one run: top-level "
        "imports and, indented, what they import; cumulative ms):\n\n"
        "| import | ms |\n|---|---:|\n"
        f"{imports}\n"
    )
    print(text)
    if args.write:
        write_section(args.write, "cli_status", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
