"""Wall time of a headless `ecmt renew`, beside the same enrolment by hand with openssl + curl.

One reference server (`ccms-server init` + `ccms-server serve` on 127.0.0.1, production
argon2, rate limiter off) serves both sides. Every run has its own account, with the terms
already accepted, and its own single-use PIN, all prepared before any clock starts. Runs go
in pairs, alternating which side goes first, after one untimed warm-up pair:

- ecmt: `ecmt renew --server URL --trust-anchor PEM --store files:DIR --epoc E --pin-stdin
  --json` in a fresh HOME/XDG folder and a fresh files store (RSA 2048, the default key);
  it must exit 0 with the certificate for EPOC E in its JSON;
- baseline: `openssl req -newkey rsa:2048 -nodes` | `openssl base64` → `curl` POST
  simpleenroll (Basic EPOC:PIN from a 0600 `--config` file) | `openssl base64 -d` |
  `openssl pkcs7 -print_certs`, one bash script; the certificate must name serialNumber=E.

With `--compare REV` (repeatable), `ecmt renew` as of each earlier commit runs in the same
rounds against the same server (its `src/` exported with `git archive` and put first on
PYTHONPATH), so each change shows as a row of its own.

Each wall time runs from process start to exit. So that the ratio ecmt ÷ baseline can be
read, `ecmt --version` and `python -c pass` are timed after every round (start-up and
imports), argon2id verifications and RSA-2048 key generations in this process, the server's
access log gives its own time per request, the PIN checks (`auth=pin`, each 1 +
superseded_pins_checked argon2id verifications) and the connections (`conn=`, one TLS
handshake each) of every run, and each run is split into phases (ecmt's log timestamps;
`$EPOCHREALTIME` in the baseline script). A few more `ecmt renew` runs under
`python -X importtime` say which imports the start-up is made of. Any failed run makes the
exit status non-zero and leaves the document alone.

    .venv/bin/python bench/client_renew.py [--quick] [--compare REV]... [--write FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.backends.openssl import backend
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from _common import (
    Server,
    ServerLog,
    ca_key_description,
    clean_environment,
    init_data_dir,
    load_average,
    machine,
    prepare_accounts,
    progress,
    read_server_log,
    write_section,
)
from ccms_server.bootstrap import make_hasher
from ccms_server.ca import CaPaths
from ccms_server.settings import ServerSettings

NAME = "client_renew"
BIN = Path(sys.executable).parent
ECMT = BIN / "ecmt"
RUN_TIMEOUT = 120.0
LOG_STAMP = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
ENROLLED = "simpleenroll -> 200"
ANSWERED = re.compile(r" (GET|POST) (\S+) -> (\d{3}) rid=")
ACCESS = re.compile(r'"(\w+) (\S+)" (\d{3}) ([\d.]+)ms')
AUTH = re.compile(r" auth=(\S+) conn=(\S+)")
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
# the command line, the app (settings, store and status for the EPOC) and the logon's client
LOGON_IMPORTS = "ecmt.cli, ecmt.cli.commands, ecmt.ccms.api, ecmt.services.logon"

# The baseline, as README.md's "Enrol by hand with curl and openssl" does it. The PIN is in
# the 0600 curl config file (`user = "EPOC:PIN"`), never on a command line.
# $EPOCHREALTIME (bash 5) marks the two steps, for the breakdown; it costs no process.
BASELINE_SCRIPT = """\
set -euo pipefail
umask 077
cd "$1"
t0=$EPOCHREALTIME
openssl req -new -newkey rsa:2048 -nodes -keyout key.pem -subj "/serialNumber=$2" \\
    -outform DER 2>req.stderr | openssl base64 > csr.b64
t1=$EPOCHREALTIME
curl -q -sS --fail-with-body --max-time 120 --config curl.cfg --cacert "$4" \\
    -H 'Content-Type: application/pkcs10' --data-binary @csr.b64 \\
    "$3/.well-known/est/simpleenroll" \\
  | openssl base64 -d | openssl pkcs7 -inform DER -print_certs > cert.pem
t2=$EPOCHREALTIME
echo "$t0 $t1 $t2" > steps
"""


@dataclass(frozen=True)
class Profile:
    name: str
    pairs: int  # timed rounds (each ecmt, baseline), after one untimed warm-up round
    verifies: int  # argon2 floor: verifications before, and again after, the rounds
    keygens: int  # RSA-2048 floor: key generations before, and again after, the rounds
    importtimes: int  # `python -X importtime` runs of `ecmt renew`, untimed


FULL = Profile("full", 20, 5, 10, 5)
QUICK = Profile("quick", 4, 3, 5, 2)


# --- results -------------------------------------------------------------------------------


@dataclass
class Series:
    what: str
    column: str = ""  # the short name in tables with a column per client
    seconds: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)  # server time of each run, summed
    requests: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    per_run: list[int] = field(default_factory=list)  # requests the server saw per run
    pin_checks: list[int] = field(default_factory=list)  # auth=pin requests per run
    handshakes: list[int] = field(default_factory=list)  # distinct conn= per run
    parts: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass
class Run:
    profile: Profile
    settings: ServerSettings
    ca_key: str
    load_before: str
    load_after: str = ""
    ecmt: Series = field(
        default_factory=lambda: Series("`ecmt renew` (this checkout)", "ecmt, this checkout")
    )
    baseline: Series = field(default_factory=lambda: Series("openssl + curl (baseline)"))
    version: Series = field(default_factory=lambda: Series("`ecmt --version` (start-up + imports)"))
    interpreter: Series = field(
        default_factory=lambda: Series("`python -c pass` (bare interpreter)")
    )
    logon_imports: Series = field(
        default_factory=lambda: Series(f"`python -c 'import {LOGON_IMPORTS}'`")
    )
    argon2: Series = field(
        default_factory=lambda: Series("argon2id verify, in this process (server parameters)")
    )
    keygen: Series = field(
        default_factory=lambda: Series("RSA-2048 key generation, in this process")
    )
    compared: list[tuple[Variant, Series]] = field(default_factory=list)
    imports: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    server_log: ServerLog | None = None
    dropped_env: list[str] = field(default_factory=list)
    openssl_versions: tuple[str, str] = ("", "")  # cryptography's, the system openssl's


@dataclass(frozen=True)
class Variant:
    """`ecmt` as of a commit: its `src/` first on PYTHONPATH (None: this checkout)."""

    revision: str
    subject: str
    src: Path | None = None


def export_revision(revision: str, into: Path) -> Variant:
    """`git archive REV src` unpacked into `into`; nothing in the repository changes."""
    repo = Path(__file__).resolve().parents[1]
    short = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short", revision],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    subject = subprocess.run(
        ["git", "-C", str(repo), "log", "-1", "--format=%s", revision],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", revision, "src"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return Variant(short, subject, into / "src")


# --- running things --------------------------------------------------------------------------


def client_env(home: Path, src: Path | None = None) -> dict[str, str]:
    """A clean HOME and XDG folders (as tests/integration/client_cli.py does), no keyring,
    no proxy: only this run's files are read or written, and only loopback is used. With
    `src`, that copy of the client is imported instead of this checkout's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ECMT_") and k.lower() not in PROXY_VARIABLES and k != "PYTHONPATH"
    }
    if src is not None:
        env["PYTHONPATH"] = str(src)
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_CONFIG_DIRS": str(home / "etc-xdg"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
    )
    return env


def timed(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> tuple[float, str, float, str]:
    """Seconds from process start to exit, the standard output, the wall-clock time of the
    start (to place the child's log lines) and the standard error. Raises on a non-zero
    exit."""
    wall = time.time()
    started = time.perf_counter()
    done = subprocess.run(
        args,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        detail = " ".join((done.stderr or done.stdout).split())[-400:]
        raise RuntimeError(f"{Path(args[0]).name} exited {done.returncode}: {detail}")
    return seconds, done.stdout, wall, done.stderr


class AccessLog:
    """The server's access-log lines written since the last `take()`: what one run cost it."""

    def __init__(self, settings: ServerSettings) -> None:
        self.path = settings.effective_log_file
        self.offset = 0

    def take(self) -> list[tuple[str, float, str, str]]:
        """(request and status, server ms, auth=, conn=) of each new access-log line."""
        try:
            with self.path.open("rb") as log:
                log.seek(self.offset)
                data = log.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        found = []
        for line in data.decode(errors="replace").splitlines():
            match = ACCESS.search(line)
            if match:
                method, path, status, ms = match.groups()
                how = AUTH.search(line)
                auth, conn = how.groups() if how else ("-", "-")
                found.append((f"{method} {path} {status}", float(ms), auth, conn))
        return found


@dataclass(frozen=True)
class Target:
    url: str
    trust_anchor: Path


Timing = tuple[float, dict[str, float]]  # wall seconds, and seconds of named parts
Side = tuple["Series", Callable[[Path], Timing]]


def run_ecmt(
    target: Target,
    work: Path,
    epoc: str,
    pin: str,
    src: Path | None = None,
    imports: dict[str, list[float]] | None = None,
) -> Timing:
    """One `ecmt renew` (of the client in `src`, else this checkout's); with `imports`, run
    under `python -X importtime` and add its import times (ms by package) there instead."""
    home = work / "home"
    home.mkdir(mode=0o700)
    store = home / "store"
    launcher = [] if imports is None else [sys.executable, "-X", "importtime"]
    args = [
        *launcher,
        str(ECMT),
        "renew",
        "--server",
        target.url,
        "--trust-anchor",
        str(target.trust_anchor),
        "--store",
        f"files:{store}",
        "--epoc",
        epoc,
        "--pin-stdin",
        "--json",
    ]
    seconds, stdout, wall, stderr = timed(args, client_env(home, src), stdin=pin + "\n")
    result = json.loads(stdout)
    if result.get("status") != "ok" or result.get("certificate", {}).get("epoc") != epoc:
        raise RuntimeError(f"ecmt renew for {epoc}: unexpected JSON {stdout[:300]}")
    if len(list(store.glob("*.p12"))) != 1 or len(list(store.glob("*.pem"))) != 1:
        raise RuntimeError(f"ecmt renew for {epoc}: not one .p12 and one .pem in the store")
    if imports is not None:
        for package, ms_taken in import_times(stderr).items():
            imports[package].append(ms_taken)
    return seconds, ecmt_phases(home, wall, seconds)


def import_times(stderr: str) -> dict[str, float]:
    """`-X importtime` self times summed by top-level package (ecmt by subpackage), in ms:
    they add up to the whole import time."""
    totals: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        found = IMPORT_LINE.match(line)
        if not found:
            continue
        name = found.group(4)
        parts = name.split(".")
        package = ".".join(parts[:2]) if parts[0] == "ecmt" and len(parts) > 1 else parts[0]
        totals[package] += int(found.group(1)) / 1000
    return dict(totals)


def ecmt_phases(home: Path, wall: float, seconds: float) -> dict[str, float]:
    """Phases of one `ecmt renew` from its own log (millisecond timestamps): start-up until
    its first log line (written as the app is built, before any request), the requests
    until the `simpleenroll` answer, and the rest until the process exits. Empty if the log
    does not show both lines."""
    stamps: list[tuple[float, str]] = []
    for log in home.rglob("ecmt.log"):
        for line in log.read_text(errors="replace").splitlines():
            found = LOG_STAMP.match(line)
            if found:
                when = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
                stamps.append((when, line))
    if not stamps:
        return {}
    stamps.sort()
    ready = stamps[0][0]
    enrolled = next((t for t, line in stamps if ENROLLED in line), None)
    if enrolled is None or not wall <= ready <= enrolled <= wall + seconds:
        return {}
    phases = {
        "start": ready - wall,
        "requests": enrolled - ready,
        "finish": wall + seconds - enrolled,
    }
    previous = wall
    for when, line in stamps:  # each answer, from the previous one (or the process start)
        answer = ANSWERED.search(line)
        if answer and when <= enrolled:
            method, path, status = answer.groups()
            phases[f"answer {method} {path} {status}"] = when - previous
            previous = when
    return phases


def run_baseline(target: Target, work: Path, epoc: str, pin: str) -> Timing:
    home = work / "home"
    home.mkdir(mode=0o700)
    config = home / "curl.cfg"
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(f'user = "{epoc}:{pin}"\n')
    script = work / "enrol.sh"
    script.write_text(BASELINE_SCRIPT)
    args = ["bash", str(script), str(home), epoc, target.url, str(target.trust_anchor)]
    seconds, _, _, _ = timed(args, client_env(home))
    certs = x509.load_pem_x509_certificates((home / "cert.pem").read_bytes())
    if not certs:
        raise RuntimeError(f"baseline for {epoc}: no certificate in cert.pem")
    names = certs[0].subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if [n.value for n in names] != [epoc]:
        raise RuntimeError(f"baseline for {epoc}: subject {certs[0].subject.rfc4514_string()}")
    key = serialization.load_pem_private_key((home / "key.pem").read_bytes(), None)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if certs[0].public_key().public_bytes(
        serialization.Encoding.DER, spki
    ) != key.public_key().public_bytes(serialization.Encoding.DER, spki):
        raise RuntimeError(f"baseline for {epoc}: the certificate is for another key")
    t0, t1, t2 = (float(t.replace(",", ".")) for t in (home / "steps").read_text().split())
    return seconds, {"req": t1 - t0, "enrol": t2 - t1}


def run_version(work: Path) -> Timing:
    home = work / "home"
    home.mkdir(mode=0o700)
    seconds, stdout, _, _ = timed([str(ECMT), "--version"], client_env(home))
    if not stdout.startswith("ecmt "):
        raise RuntimeError(f"ecmt --version: {stdout[:100]!r}")
    return seconds, {}


def run_interpreter(work: Path) -> Timing:
    home = work / "home"
    home.mkdir(mode=0o700)
    return timed([sys.executable, "-c", "pass"], client_env(home))[0], {}


def run_logon_imports(work: Path) -> Timing:
    """What `ecmt renew` must import before it can send the logon, and nothing more."""
    home = work / "home"
    home.mkdir(mode=0o700)
    return timed([sys.executable, "-c", f"import {LOGON_IMPORTS}"], client_env(home))[0], {}


def argon2_floor(settings: ServerSettings, count: int) -> list[float]:
    """Seconds per argon2id verification with the server's parameters, in this process."""
    hasher = make_hasher(settings)
    stored = hasher.hash("K7QM-4X9R-T3HP")
    times = []
    for _ in range(count):
        started = time.perf_counter()
        if not hasher.verify(stored, "K7QM-4X9R-T3HP"):
            raise RuntimeError("argon2 verify rejected the right PIN")
        times.append(time.perf_counter() - started)
    return times


def keygen_floor(count: int) -> list[float]:
    """Seconds per RSA-2048 key generation (cryptography, as ecmt does it), in this process."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        times.append(time.perf_counter() - started)
    return times


def openssl_versions() -> tuple[str, str]:
    """`OpenSSL x.y.z` of cryptography (ecmt's keys), and of the system `openssl` command."""
    system = subprocess.run(
        ["openssl", "version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout.split()
    return (
        " ".join(backend.openssl_version_text().split()[:2]),
        " ".join(system[:2]),
    )


# --- the benchmark ---------------------------------------------------------------------------


def benchmark(profile: Profile, work: Path, variants: list[Variant]) -> Run:
    data_dir = work / "data"
    progress("ccms-server init (default settings)")
    settings = init_data_dir(data_dir)
    paths = CaPaths(settings.data_dir)
    result = Run(profile, settings, ca_key_description(paths), load_average())
    result.openssl_versions = openssl_versions()
    for variant in variants:
        result.compared.append(
            (
                variant,
                Series(
                    f"`ecmt renew` as of {variant.revision} ({variant.subject[:60]}…)",
                    f"ecmt as of {variant.revision}",
                ),
            )
        )
    sides_per_round = 2 + len(variants)
    accounts = sides_per_round * (profile.pairs + 1) + profile.importtimes
    progress(f"adding {accounts} accounts with terms accepted and PINs")
    credentials = iter(prepare_accounts(settings, accounts))

    server = Server(data_dir)
    counter = 0

    def attempt(series: Series | None, run: Callable[[Path], Timing], log: AccessLog) -> None:
        """One run in its own folder; `series` None for the untimed warm-up."""
        nonlocal counter
        counter += 1
        folder = work / f"run-{counter:03d}"
        folder.mkdir(mode=0o700)
        log.take()  # skip whatever came before
        try:
            seconds, parts = run(folder)
        except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as exc:
            where = series.what if series else "warm-up"
            result.errors.append(f"{where}: {type(exc).__name__}: {exc}")
            return
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        seen = log.take()
        if series is None:
            return
        series.seconds.append(seconds)
        series.server_ms.append(sum(ms for _, ms, _, _ in seen))
        series.per_run.append(len(seen))
        series.pin_checks.append(sum(1 for _, _, auth, _ in seen if auth == "pin"))
        series.handshakes.append(len({conn for _, _, _, conn in seen}))
        for name, value in parts.items():
            series.parts[name].append(value)
        for request, ms, _, _ in seen:
            series.requests[request].append(ms)

    def side(series: Series, src: Path | None, baseline: bool = False) -> Side:
        epoc, pin = next(credentials)
        if baseline:
            return series, lambda f: run_baseline(target, f, epoc, pin)
        return series, lambda f: run_ecmt(target, f, epoc, pin, src)

    def renew_round(turn: int, log: AccessLog, timed_run: bool) -> None:
        """Every side once, the order turned by `turn` so each goes first as often."""
        sides = [
            side(result.ecmt, None),
            *(side(series, variant.src) for variant, series in result.compared),
            side(result.baseline, None, baseline=True),
        ]
        turn %= len(sides)
        for series, run in sides[turn:] + sides[:turn]:
            attempt(series if timed_run else None, run, log)

    def importtime_run(folder: Path) -> Timing:
        epoc, pin = next(credentials)
        return run_ecmt(target, folder, epoc, pin, imports=result.imports)

    try:
        target = Target(server.start(), paths.trust_anchor)
        log = AccessLog(settings)
        progress(f"server at {target.url}; warm-up round (untimed)")
        renew_round(0, log, timed_run=False)
        attempt(None, run_version, log)
        result.argon2.seconds += argon2_floor(settings, profile.verifies)
        result.keygen.seconds += keygen_floor(profile.keygens)
        for pair in range(profile.pairs):
            progress(f"round {pair + 1}/{profile.pairs}")
            renew_round(pair, log, timed_run=True)
            attempt(result.version, run_version, log)
            attempt(result.interpreter, run_interpreter, log)
            attempt(result.logon_imports, run_logon_imports, log)
        progress(f"{profile.importtimes} runs under python -X importtime (untimed)")
        for _ in range(profile.importtimes):
            attempt(None, importtime_run, log)
        result.argon2.seconds += argon2_floor(settings, profile.verifies)
        result.keygen.seconds += keygen_floor(profile.keygens)
        if not server.alive():
            result.errors.append(f"the server process exited: {server.tail()}")
    finally:
        server.stop()
    result.load_after = load_average()
    result.server_log = read_server_log(settings, "GET|POST")
    result.errors += [f"server log: {line}" for line in result.server_log.problems[:10]]
    return result


# --- report ----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}" if values else "-"


def request_label(request: str) -> str:
    method, path, status = request.split(" ")
    return f"`{method} {path}` {status}"


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def report(result: Run) -> str:
    profile, settings = result.profile, result.settings
    ecmt, base, version, interp = result.ecmt, result.baseline, result.version, result.interpreter
    variants = [series for _, series in result.compared] + [ecmt]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    ratio = ecmt.median / base.median
    # The breakdown uses means, which add up within a side (medians do not).
    e_wall, b_wall = mean(ecmt.seconds), mean(base.seconds)
    e_server, b_server = mean(ecmt.server_ms) / 1000, mean(base.server_ms) / 1000
    b_req, b_enrol = mean(base.parts["req"]), mean(base.parts["enrol"])
    phased = all(len(ecmt.parts[p]) == len(ecmt.seconds) for p in ("start", "requests", "finish"))
    account = next((v for k, v in ecmt.requests.items() if " /ccms/v1/account " in k), [])
    rounds = 1 + len(result.compared)
    before_logon = mean(ecmt.parts["start"]) - mean(account) / 1000 if account else float("nan")
    between = mean(ecmt.parts["requests"]) - (e_server - mean(account) / 1000 if account else 0)
    logon_imports = mean(result.logon_imports.seconds)
    movable = max(0.0, before_logon - logon_imports) + between

    def phase(name: str) -> str:
        return ms(mean(ecmt.parts[name])) if phased else "-"

    cryptography_ssl, system_ssl = result.openssl_versions
    compare_flags = "".join(f" --compare {v.revision}" for v, _ in result.compared)
    lines = [
        "## Client renewal wall time (`bench/client_renew.py`)",
        "",
        f"Measured {now}, {profile.name} profile, on {machine()}; load average "
        f"{result.load_before} before the run, {result.load_after} after it.",
        "",
        "- Server: one `ccms-server serve` process on 127.0.0.1 over TLS for every side; "
        f"`init` defaults (CA keys {result.ca_key}) and "
        f"`rate_limit_per_minute = {settings.rate_limit_per_minute}`; argon2id at its "
        f"production defaults (time_cost={settings.argon2_time_cost}, "
        f"memory={settings.argon2_memory_kib} KiB, parallelism={settings.argon2_parallelism}), "
        f"so each PIN check is 1 + superseded_pins_checked = "
        f"{1 + settings.superseded_pins_checked} verifications.",
        "- Every run: its own account with the current terms already accepted and its own "
        "single-use PIN (prepared in-process through `Admin` before any clock starts), fresh "
        "HOME and XDG folders, `PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring` (so "
        "ecmt keeps its store password and journal key in 0600 files), no proxy variables.",
        "- ecmt: `ecmt renew --server URL --trust-anchor PEM --store files:DIR --epoc E "
        "--pin-stdin --json` into a fresh files store, RSA 2048 (the default `key_algorithm`, "
        f"generated by cryptography's {cryptography_ssl}); exit 0, the JSON's "
        "`certificate.epoc` = E and one .p12 + .pem in the store are checked after the clock "
        "stops. `ecmt renew` as of earlier commits (the rows that name one) runs the same "
        "console script with that commit's `src/` (from `git archive`) first on PYTHONPATH.",
        "- Baseline: one bash script (`set -euo pipefail`): `openssl req -new -newkey rsa:2048 "
        "-nodes -outform DER | openssl base64`, then `curl --config curl.cfg` (Basic EPOC:PIN "
        "from a 0600 file) POST `simpleenroll` `| openssl base64 -d | openssl pkcs7 -inform "
        f"DER -print_certs > cert.pem`, with the system's {system_ssl}; serialNumber=E in the "
        "subject and the key match are checked after the clock stops. `$EPOCHREALTIME` marks "
        "the two steps inside the script.",
        f"- Order: one untimed warm-up round, then {profile.pairs} rounds of {rounds + 1} runs "
        f"({rounds} of ecmt, one baseline), the order turned by one place each round, each "
        "round followed by one `ecmt --version` and one `python -c pass`. Every wall time is "
        "from process start to exit (`subprocess.run` in this process). argon2id "
        "verification and RSA-2048 key generation are timed in this process, "
        f"{profile.verifies} and {profile.keygens} of each before the rounds and as many "
        f"after. Then {profile.importtimes} untimed `ecmt renew` runs under "
        "`python -X importtime`.",
        "- Server side, from its access log: its own time per request (summed per run), PIN "
        "checks (`auth=pin`) and connections (distinct `conn=`, one TLS handshake each).",
        "- Re-run: `.venv/bin/python bench/client_renew.py"
        f"{' --quick' if profile is QUICK else ''}{compare_flags} --write docs/benchmarks.md`.",
    ]
    if result.dropped_env:
        lines.append(f"- Ignored from the environment: {', '.join(result.dropped_env)}.")
    lines += [
        "",
        "| what | runs | median (ms) | min (ms) | max (ms) | requests per run "
        "| PIN checks per run | TLS handshakes per run | server time per run, median (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = (*variants, base, version, interp, result.logon_imports, result.argon2, result.keygen)
    for series in rows:
        lines.append(
            f"| {series.what} | {len(series.seconds)} | {ms(series.median)} "
            f"| {ms(min(series.seconds))} | {ms(max(series.seconds))} | {counts(series.per_run)} "
            f"| {counts(series.pin_checks)} | {counts(series.handshakes)} "
            f"| {median_ms(series.server_ms)} |"
        )
    lines += ["", f"**ecmt ÷ baseline, medians: {ratio:.2f}** ({ms(ecmt.median)} ms ÷ "
              f"{ms(base.median)} ms, this checkout)."]  # fmt: skip
    for (variant, series), after in zip(result.compared, variants[1:], strict=True):
        lines.append(
            f"As of {variant.revision}: {series.median / base.median:.2f}; the next change "
            f"took the median from {ms(series.median)} to {ms(after.median)} ms."
        )
    lines += [
        "",
        "Server time per request, median over the timed runs (ms):",
        "",
        "| request | " + " | ".join(s.column for s in variants) + " | baseline |",
        "|---|" + "---:|" * (len(variants) + 1),
    ]
    requests = sorted({r for s in (*variants, base) for r in s.requests})
    for request in requests:
        cells = " | ".join(median_ms(s.requests.get(request, [])) for s in (*variants, base))
        lines.append(f"| {request_label(request)} | {cells} |")
    answers = sorted({k for s in variants for k in s.parts if k.startswith("answer ")})
    lines += [
        "",
        "ecmt's requests as the client saw them: mean time from the process start (first row) "
        "or from the previous answer until each answer was logged, in ms (its log has "
        "millisecond timestamps). The first includes the interpreter, the imports and the TLS "
        "handshake; the server's part of each is in the table above.",
        "",
        "| answer | " + " | ".join(s.column for s in variants) + " |",
        "|---|" + "---:|" * len(variants),
    ]
    for answer in _in_order(answers):
        cells = " | ".join(
            ms(mean(s.parts[answer])) if s.parts.get(answer) else "-" for s in variants
        )
        lines.append(f"| {answer.removeprefix('answer ')} | {cells} |")
    lines += [
        "",
        "Where the time goes, means over the timed runs (ms; means add up within a column, "
        "medians would not):",
        "",
        "| part | ecmt (this checkout) | baseline |",
        "|---|---:|---:|",
        f"| wall time, process start to exit | {ms(e_wall)} | {ms(b_wall)} |",
        "| until the logon's answer: interpreter, imports, settings, TLS handshake, "
        f"`GET account` | {phase('start')} | - |",
        f"| ... of which the server's PIN check | {ms(mean(account) / 1000)} | - |",
        f"| key + CSR: the `openssl req` step | - | {ms(b_req)} |",
        "| from the logon's answer to the `simpleenroll` answer: terms, cacerts beside key "
        f"generation, CSR, journal, enrolment | {phase('requests')} | - |",
        "| the curl pipeline with the unpacking (enrolment) | - | " + ms(b_enrol) + " |",
        f"| ... of which the server's time | - | {ms(b_server)} |",
        "| after the answer: certificate checks, PKCS#12 install and read-back, journal "
        f"cleared, CA cache, store listing, JSON, interpreter exit | {phase('finish')} | - |",
        f"| bash start and exit (the rest) | - | {ms(b_wall - b_req - b_enrol)} |",
        "",
        f"`ecmt --version` takes {ms(mean(version.seconds))} ms on average (it imports "
        "almost nothing), `python -c pass` "
        f"{ms(mean(interp.seconds))} ms: nearly all of ecmt's start-up is the imports that "
        "`renew` needs.",
    ]
    lines += _imports_table(result.imports)
    log = result.server_log
    statuses = ", ".join(f"{code} x{n}" for code, n in sorted(log.statuses.items())) if log else ""
    problems = len(log.problems) if log else 0
    lines += [
        "",
        f"Server access log, all GETs and POSTs of the run (warm-up included): "
        f"{statuses or 'none'}; ERROR/traceback/'database is locked' lines: {problems}.",
        "",
        "What `ecmt renew` does that the baseline does not:",
        "",
        "- starts a Python interpreter and imports what it needs (cryptography, requests, "
        "pydantic, its own modules): the import table above. The baseline starts bash and "
        "five small C programs (openssl x4, curl);",
        "- logs on first with `GET /ccms/v1/account` (Basic EPOC:PIN), which checks the PIN "
        "without using it up, then `GET /ccms/v1/terms` to check the accepted version, and "
        "`GET cacerts` (while the key is generated) for the chain to check against. Since the "
        "logon answers with a logon token and the terms acceptance and `simpleenroll` send it "
        "instead of the PIN, the server checks the PIN once, as for the baseline; and all "
        "requests share one kept-alive connection, one TLS handshake as for curl (the PIN "
        "checks and handshakes columns; the rows as of earlier commits show what each change "
        "removed);",
        "- writes an encrypted journal (key + CSR, Fernet, its key in the secrets folder) "
        "before sending, and clears it after installing;",
        "- checks the issued certificate (key match, chain to the CA, validity, clientAuth, EPOC);",
        "- installs into the files store: PKCS#12 (LEGACY encryption under the store password, "
        "made on first use), then the .pem, both written atomically, read back and found again "
        "by fingerprint; caches the CA chain; lists the store for the JSON answer; writes its "
        "log file.",
        "",
        "How to read the ratio:",
        "",
        "- Both sides now pay the server the same: one PIN check "
        f"({median_ms(account)} ms for `GET account`) and one handshake. What is left is the "
        f"client's own time, {ms(e_wall - e_server)} ms against the baseline's "
        f"{ms(b_wall - b_server)} ms (wall time less server time, means): before the logon "
        f"is answered, {ms(before_logon)} ms of start-up, imports and handshake; between the "
        f"logon and the enrolment's answers, {ms(between)} ms (key generation beside "
        "`GET cacerts`, CSR, journal); after it, "
        f"{phase('finish')} ms. The baseline's own time is mostly its `openssl req` step "
        f"({ms(b_req)} ms).",
        "- Where next: the client waits idle while the server checks the PIN "
        f"({ms(mean(account) / 1000)} ms), and only then generates its key and writes the "
        "journal. A process that only imports what `renew` needs to send the logon takes "
        f"{ms(logon_imports)} ms, start to exit (the `python -c 'import …'` row), against "
        f"the {ms(before_logon)} ms ecmt spends before its logon is answered, less the "
        "server's check: nearly all of that is those imports. Sending the logon first and "
        "loading the rest of `renew` (journal, store, certificate checks), and generating "
        f"the key, during the server's check would move at most {ms(movable)} ms into that "
        f"wait: a ratio of about {(ecmt.median - movable) / base.median:.2f} at best. Below "
        "1.0 then needs the logon's own imports to shrink: the HTTP stack (`urllib3`, "
        "`requests`, `email`, `charset_normalizer`, `http`) and pydantic (`pydantic`, "
        "`pydantic_core`, `annotated_types`, for `wire.py`'s JSON bodies) lead the import "
        "table.",
        "- RSA-2048 key generation is a random prime search: its time spreads widely, which is "
        "why single runs scatter and why medians and minima are given. The two sides do not "
        f"use the same OpenSSL ({cryptography_ssl} in cryptography, {system_ssl} for the "
        "`openssl` command).",
        "- Compare the ratio, not the milliseconds, across machines; a ratio that grows "
        "between runs on the same machine means the client's own overhead grew.",
    ]
    return "\n".join(lines) + "\n"


def counts(values: list[int]) -> str:
    found = sorted(set(values))
    return "/".join(str(n) for n in found) if found else "-"


def _in_order(answers: list[str]) -> list[str]:
    """A renewal's requests in the order it sends them."""
    order = ["account", "terms", "acceptances", "cacerts", "simpleenroll"]

    def key(answer: str) -> int:
        path = answer.split(" ")[2]
        return next((i for i, name in enumerate(order) if path.endswith(name)), len(order))

    return sorted(answers, key=key)


def _imports_table(imports: dict[str, list[float]], shown: int = 14) -> list[str]:
    """Median self time per package under `python -X importtime` (which slows every import
    down, so the total is larger than in a normal run; the shares are what to read)."""
    if not imports:
        return []
    medians = {package: statistics.median(times) for package, times in imports.items()}
    total = sum(medians.values())
    top = sorted(medians.items(), key=lambda item: -item[1])[:shown]
    rest = total - sum(value for _, value in top)
    lines = [
        "",
        "What `ecmt renew` imports, from its runs under `python -X importtime`: median self "
        "time per package (ecmt per subpackage), in ms. importtime slows every import down, "
        "so read the shares rather than the total:",
        "",
        "| package | ms | share |",
        "|---|---:|---:|",
    ]
    lines += [f"| `{name}` | {value:.0f} | {value / total:.0%} |" for name, value in top]
    lines += [
        f"| {len(medians) - len(top)} other packages | {rest:.0f} | {rest / total:.0%} |",
        f"| all imports | {total:.0f} | 100% |",
    ]
    return lines


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK.pairs} pairs: rougher")
    parser.add_argument(
        "--write", metavar="FILE", type=Path, help="replace (or add) this section in FILE"
    )
    parser.add_argument(
        "--compare",
        metavar="REV",
        action="append",
        default=[],
        help="also run `ecmt renew` as of this commit, in the same rounds (repeatable)",
    )
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    for tool in ("openssl", "curl", "bash"):
        if shutil.which(tool) is None:
            progress(f"{tool} not found on PATH: the baseline needs it")
            return 1
    if not ECMT.exists():
        progress(f"{ECMT} not found: install the project into this venv")
        return 1
    dropped_env = clean_environment()
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="ecmt-bench-"))
    try:
        variants = [export_revision(rev, work / f"rev-{i}") for i, rev in enumerate(args.compare)]
        result = benchmark(profile, work, variants)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.dropped_env = dropped_env
    if result.errors:
        listing = "\n".join(f"- {e}" for e in result.errors)
        print(f"Failed runs and server complaints:\n{listing}\n", file=sys.stderr)
    complete = all(
        len(s.seconds) == n
        for s, n in (
            *((series, profile.pairs) for _, series in result.compared),
            (result.ecmt, profile.pairs),
            (result.baseline, profile.pairs),
            (result.version, profile.pairs),
            (result.interpreter, profile.pairs),
            (result.logon_imports, profile.pairs),
        )
    )
    if not complete or result.errors:
        progress(f"{len(result.errors)} failure(s); {args.write or 'nothing'} not written")
        return 1
    section = report(result)
    print(section)
    progress(f"done in {time.monotonic() - started:.0f} s")
    if args.write:
        write_section(args.write, NAME, section)
        progress(f"wrote the section to {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
