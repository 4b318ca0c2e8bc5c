"""What the benchmarks share: the `ccms-server` child process, accounts with PINs prepared
in-process through `Admin`, the machine description, and the delimited sections of
docs/benchmarks.md.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import subprocess
import sys
import time
import tomllib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select, update

from ccms_server.admin import Admin
from ccms_server.bootstrap import make_hasher
from ccms_server.ca import CaPaths, CertificateAuthority
from ccms_server.db.engine import make_sessions
from ccms_server.db.models import Account, Terms
from ccms_server.settings import CONFIG_FILE_NAME, ServerSettings, load_settings

DOC_HEADER = """# Benchmarks

Every figure here depends on the machine it was measured on, and the machines are shared and
noisy. So each one is reported beside a *floor* measured in the same run on the same machine
(the cost of the one expensive primitive the operation cannot avoid), and the ratio to that
floor is the number to compare across runs and machines. Re-run a section with the command it
names, for example `.venv/bin/python bench/server_enroll.py --write docs/benchmarks.md`
(`--quick` for a shorter, rougher run); other sections are left as they are.
"""
LISTENING = re.compile(r"listening on (https://127\.0\.0\.1:(\d+))")
SERVER_START_TIMEOUT = 60.0


# --- the server process ----------------------------------------------------------------------


def clean_environment() -> list[str]:
    """Drop CCMS_* variables here and for the server, so only the config file tunes it."""
    dropped = sorted(name for name in os.environ if name.startswith("CCMS_"))
    for name in dropped:
        del os.environ[name]
    return dropped


def server_command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("ccms-server")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "ccms_server.cli", *args]


def init_data_dir(data_dir: Path) -> ServerSettings:
    """`ccms-server init` with its defaults, then the rate limiter off (it would answer 429)."""
    subprocess.run(
        server_command("init", "--data-dir", str(data_dir)),
        check=True,
        capture_output=True,
        timeout=300,
    )
    config_file = data_dir / CONFIG_FILE_NAME
    config = tomllib.loads(config_file.read_text()) if config_file.exists() else {}
    config["rate_limit_per_minute"] = 0  # otherwise the rate limiter answers 429
    config_file.write_text(tomli_w.dumps(config))
    return load_settings(data_dir)


class Server:
    """`ccms-server serve --port 0` as a child process; always terminated and waited for."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.stdout = data_dir / "serve.stdout"
        self.stderr = data_dir / "serve.stderr"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> str:
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.proc = subprocess.Popen(
                server_command(
                    "serve", "--data-dir", str(self.data_dir), "--host", "127.0.0.1", "--port", "0"
                ),
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            found = LISTENING.search(self.stdout.read_text(errors="replace"))
            if found:
                self.url = found.group(1)
                return self.url
            if self.proc.poll() is not None:
                raise RuntimeError(f"ccms-server serve exited: {self.tail()}")
            time.sleep(0.05)
        raise RuntimeError(f"ccms-server serve did not start in time: {self.tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.stderr.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@dataclass
class ServerLog:
    statuses: Counter[str]
    problems: list[str]


def read_server_log(settings: ServerSettings, methods: str = "POST") -> ServerLog:
    """Status codes of `methods` (a regex alternative, e.g. "GET|POST") from the access log,
    and any ERROR, traceback or lock complaint."""
    access_status = re.compile(rf'"(?:{methods}) \S+" (\d{{3}}) ')
    statuses: Counter[str] = Counter()
    problems: list[str] = []
    log_file = settings.effective_log_file
    for path in sorted(log_file.parent.glob(log_file.name + "*")):
        for line in path.read_text(errors="replace").splitlines():
            found = access_status.search(line)
            if found:
                statuses[found.group(1)] += 1
            if " ERROR " in line or "Traceback" in line or "database is locked" in line:
                problems.append(line)
    return ServerLog(statuses, problems)


def ca_key_description(paths: CaPaths) -> str:
    key = CertificateAuthority(paths, None).issuing.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    return type(key).__name__


# --- preparation -----------------------------------------------------------------------------


def prepare_accounts(
    settings: ServerSettings, count: int, first_epoc: int = 7_000_001
) -> list[tuple[str, str]]:
    """`count` accounts with the current terms accepted and one fresh PIN each."""
    sessions = make_sessions(settings.effective_database_url)
    admin = Admin(sessions, settings, make_hasher(settings))
    epocs = [str(first_epoc + i) for i in range(count)]
    for epoc in epocs:
        admin.add_account(epoc, f"Bench Person {epoc}", "Bench Practice", "GP")
    with sessions.begin() as session:
        current = session.scalars(select(Terms).order_by(Terms.id.desc())).first()
        session.execute(
            update(Account)
            .where(Account.epoc.in_(epocs))
            .values(terms_accepted_version=current.version if current else None)
        )
    # Each PIN is hashed with the production parameters, which is what the server verifies.
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        pins = list(pool.map(admin.issue_pin, epocs))
    return list(zip(epocs, pins, strict=True))


# --- report ----------------------------------------------------------------------------------


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "unknown"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> str:
    """`2 CPUs (model), Linux 6.x, Python 3.11.x` for a section's first line."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cpus = f"{os.cpu_count()} CPUs" + (
        f" ({affinity} usable)" if affinity and affinity != os.cpu_count() else ""
    )
    return (
        f"{cpus} ({cpu_model()}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def write_section(doc: Path, name: str, section: str) -> None:
    """Replace (or append) `<!-- bench:NAME -->` ... `<!-- /bench:NAME -->` in `doc`."""
    begin, end_mark = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{section}{end_mark}\n"
    text = doc.read_text(encoding="utf-8") if doc.exists() else DOC_HEADER
    start, end = text.find(begin), text.find(end_mark)
    if start != -1 and end > start:
        after = text[end + len(end_mark) :].removeprefix("\n")
        text = text[:start] + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")
