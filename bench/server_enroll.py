"""Enrolments per second of the reference CCMS server, beside floors measured in the same run.

The server runs as a real separate process (`ccms-server init` + `ccms-server serve` on
127.0.0.1) with production argon2 parameters and the rate limiter off. Client threads, one
keep-alive `requests.Session` each, send a fixed number of requests at concurrency 1, 4
and 16 to:

- `simplereenroll` (TLS client certificate; no argon2): floor = CA signings per second
  (`CertificateAuthority.issue_client`, one thread), and
- `simpleenroll` (HTTP Basic EPOC:PIN; one argon2id verification each): floor = argon2id
  verifications per second (`PinHasher.verify`) with as many threads as client workers.

Each floor is measured just before the server figure it divides. Accounts, PINs, accepted
terms, client keys, CSRs and the certificates renewed by `simplereenroll` are all prepared
before the timed region. Only 200 answers count; anything else is reported and makes the
exit status non-zero. No timing is ever asserted: machines are shared and noisy, so read the
ratios.

    .venv/bin/python bench/server_enroll.py [--quick] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
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
from ccms_server.ca import CaPaths, CertificateAuthority, spki_sha256
from ccms_server.server import WORKER_THREADS
from ccms_server.settings import ServerSettings

EST = "/.well-known/est/"
LEVELS = (1, 4, 16)
REQUEST_TIMEOUT = 120.0


@dataclass(frozen=True)
class Profile:
    name: str
    reenroll: tuple[int, ...]  # requests per level, each a multiple of its concurrency
    enroll: tuple[int, ...]
    verifies: tuple[int, ...]  # argon2 floor: verifications before, and again after, each level
    signings: int  # CA floor: signatures before, and again after, each reenroll level


FULL = Profile("full", (120, 240, 480), (16, 32, 64), (8, 16, 32), 300)
QUICK = Profile("quick", (16, 32, 64), (4, 8, 16), (4, 8, 16), 100)


# --- results -------------------------------------------------------------------------------


@dataclass
class Floor:
    what: str
    threads: int
    operations: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.operations / self.seconds

    def __add__(self, other: Floor) -> Floor:
        assert (self.what, self.threads) == (other.what, other.threads)
        return Floor(
            self.what,
            self.threads,
            self.operations + other.operations,
            self.seconds + other.seconds,
        )


@dataclass
class Level:
    endpoint: str
    concurrency: int
    requests: int
    seconds: float = 0.0
    ok: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    floor_before: Floor | None = None
    floor_after: Floor | None = None

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def floor(self) -> Floor:
        """The floor measured just before and just after this level, pooled."""
        assert self.floor_before is not None
        assert self.floor_after is not None
        return self.floor_before + self.floor_after

    @property
    def ratio(self) -> float:
        return self.rate / self.floor.rate


@dataclass(frozen=True)
class Job:
    """One POST: a CSR for a key we hold, and Basic credentials for simpleenroll."""

    key: rsa.RSAPrivateKey
    body: bytes
    auth: tuple[str, str] | None


@dataclass(frozen=True)
class Identity:
    """A client certificate the server issued, written out for `requests`' `cert=`."""

    cert: x509.Certificate
    files: tuple[str, str]


@dataclass
class Run:
    profile: Profile
    settings: ServerSettings
    ca_key: str
    load_before: str
    load_after: str = ""
    levels: list[Level] = field(default_factory=list)
    server_log: ServerLog = field(default_factory=lambda: ServerLog(Counter(), []))
    dropped_env: list[str] = field(default_factory=list)


# --- keys and CSRs ---------------------------------------------------------------------------


def _new_key_der(_: int) -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def generate_keys(count: int) -> Iterator[rsa.RSAPrivateKey]:
    """`count` distinct RSA-2048 keys, made on every CPU (key generation is not measured)."""
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        ders = list(pool.map(_new_key_der, range(count), chunksize=8))
    for der in ders:
        key = serialization.load_der_private_key(der, None, unsafe_skip_rsa_key_validation=True)
        assert isinstance(key, rsa.RSAPrivateKey)
        yield key


def csr_body(key: rsa.RSAPrivateKey, subject: x509.Name | None = None) -> bytes:
    name = subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return base64.encodebytes(csr.public_bytes(serialization.Encoding.DER))


def certs_from_body(body: bytes) -> list[x509.Certificate]:
    return pkcs7.load_der_pkcs7_certificates(base64.b64decode(b"".join(body.split())))


def http_session(trust_anchor: Path, cert: tuple[str, str] | None = None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would silently replace `verify`
    session.verify = str(trust_anchor)
    if cert is not None:
        session.cert = cert
    return session


def post(session: requests.Session, url: str, job: Job) -> requests.Response:
    return session.post(
        url,
        data=job.body,
        auth=job.auth,
        headers={"Content-Type": "application/pkcs10"},
        timeout=REQUEST_TIMEOUT,
    )


def describe(response: requests.Response) -> str:
    """`STATUS CODE: detail` from a problem+json answer, else the start of the body."""
    try:
        problem = response.json()
        return f"{response.status_code} {problem['code']}: {problem.get('detail') or ''}".strip()
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code} {' '.join(response.text.split())[:200]}"


def make_identities(
    url: str,
    trust_anchor: Path,
    folder: Path,
    credentials: list[tuple[str, str]],
    keys: list[rsa.RSAPrivateKey],
) -> list[Identity]:
    """Certificates for `simplereenroll` to renew, issued through `simpleenroll` (untimed)."""
    folder.mkdir(mode=0o700, exist_ok=True)

    def one(item: tuple[tuple[str, str], rsa.RSAPrivateKey]) -> Identity:
        (epoc, pin), key = item
        with http_session(trust_anchor) as session:
            response = post(
                session, url + EST + "simpleenroll", Job(key, csr_body(key), (epoc, pin))
            )
        if response.status_code != 200:
            raise RuntimeError(f"preparing a certificate for {epoc}: {describe(response)}")
        cert = certs_from_body(response.content)[0]
        cert_file, key_file = folder / f"{epoc}.crt", folder / f"{epoc}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_file.chmod(0o600)
        return Identity(cert, (str(cert_file), str(key_file)))

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, zip(credentials, keys, strict=True)))


# --- floors ----------------------------------------------------------------------------------


def run_threads(threads: int, work: Callable[[], None]) -> float:
    """Seconds for `threads` threads to each run `work` once, started together."""
    barrier = threading.Barrier(threads + 1)
    ends: list[float] = []
    failures: list[BaseException] = []

    def body() -> None:
        barrier.wait()
        try:
            work()
        except BaseException as exc:
            failures.append(exc)
        ends.append(time.perf_counter())

    pool = [threading.Thread(target=body, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    if failures:
        raise failures[0]
    return max(ends) - started


def argon2_floor(settings: ServerSettings, threads: int, total: int) -> Floor:
    """argon2id verifications per second with the server's parameters, `threads` at a time."""
    hasher = make_hasher(settings)
    stored = hasher.hash("K7QM-4X9R-T3HP")
    each = total // threads

    def work() -> None:
        for _ in range(each):
            if not hasher.verify(stored, "K7QM-4X9R-T3HP"):
                raise RuntimeError("argon2 verify rejected the right PIN")

    return Floor("argon2id verify", threads, each * threads, run_threads(threads, work))


def signing_floor(ca: CertificateAuthority, key: rsa.RSAPrivateKey, count: int) -> Floor:
    """Client certificates the CA signs per second on one thread."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")])
    public_key = key.public_key()

    def work() -> None:
        for _ in range(count):
            ca.issue_client(public_key, subject, 365)

    return Floor("CA signing (issue_client)", 1, count, run_threads(1, work))


# --- a timed level -----------------------------------------------------------------------------


def run_level(
    level: Level,
    url: str,
    trust_anchor: Path,
    per_worker: list[list[Job]],
    certs: list[tuple[str, str] | None],
) -> list[tuple[Job, bytes]]:
    """Each worker warms its connection up (GET cacerts), then all POST together."""
    barrier = threading.Barrier(len(per_worker) + 1, timeout=300)
    lock = threading.Lock()
    ends: list[float] = []
    issued: list[tuple[Job, bytes]] = []

    def error(message: str) -> None:
        with lock:
            level.errors.append(message)

    def warm_up(session: requests.Session) -> bool:
        try:
            warm = session.get(url + EST + "cacerts", timeout=REQUEST_TIMEOUT)
        except Exception as exc:
            error(f"warm-up GET cacerts: {type(exc).__name__}: {exc}")
            return False
        if warm.status_code != 200:
            error(f"warm-up GET cacerts: {describe(warm)}")
        return warm.status_code == 200

    def send(session: requests.Session, job: Job) -> None:
        sent = time.perf_counter()
        try:
            response = post(session, url + EST + level.endpoint, job)
        except requests.RequestException as exc:
            error(f"{type(exc).__name__}: {exc}")
            return
        took = time.perf_counter() - sent
        if response.status_code != 200:
            error(describe(response))
            return
        with lock:
            level.ok += 1
            level.latencies.append(took)
            issued.append((job, response.content))

    def worker(jobs: list[Job], cert: tuple[str, str] | None) -> None:
        session = http_session(trust_anchor, cert)
        try:
            ready = warm_up(session)
            barrier.wait()
            if not ready:
                error(f"{len(jobs)} request(s) not sent: the warm-up failed")
                return
            for job in jobs:
                send(session, job)
        except Exception as exc:
            error(f"client worker failed: {type(exc).__name__}: {exc}")
        finally:
            session.close()
            with lock:
                ends.append(time.perf_counter())

    threads = [
        threading.Thread(target=worker, args=(jobs, cert), daemon=True)
        for jobs, cert in zip(per_worker, certs, strict=True)
    ]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()
        started = time.perf_counter()
    for thread in threads:
        thread.join()
    level.seconds = max(ends, default=started) - started
    return issued


def check_issued(level: Level, issued: list[tuple[Job, bytes]], serials: set[int]) -> None:
    """Every 200 carries a new certificate for the CSR's key (no idempotent replay)."""
    for job, body in issued:
        try:
            cert = certs_from_body(body)[0]
        except (ValueError, IndexError) as exc:
            level.errors.append(f"200 with an unreadable body: {exc}")
            continue
        if spki_sha256(cert.public_key()) != spki_sha256(job.key.public_key()):  # type: ignore[arg-type]
            level.errors.append("200 with a certificate for another key")
        if cert.serial_number in serials:
            level.errors.append(f"200 repeated certificate serial {cert.serial_number:x}")
        serials.add(cert.serial_number)


def split(jobs: list[Job], workers: int) -> list[list[Job]]:
    return [jobs[i::workers] for i in range(workers)]


# --- report ----------------------------------------------------------------------------------


def report(result: Run) -> str:
    profile, settings = result.profile, result.settings
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Server enrolments per second (`bench/server_enroll.py`)",
        "",
        f"Measured {now}, {profile.name} profile, on {machine()}; "
        f"load average {result.load_before} before the run, {result.load_after} after it.",
        "",
        "- Server: `ccms-server serve` as a separate process on 127.0.0.1 over TLS, SQLite "
        f"(WAL), {WORKER_THREADS} worker threads, "
        f"`rate_limit_per_minute = {settings.rate_limit_per_minute}`; CA keys "
        f"{result.ca_key} (`init` default); client keys RSA 2048, a distinct key per request.",
        f"- argon2id (production defaults): time_cost={settings.argon2_time_cost}, "
        f"memory={settings.argon2_memory_kib} KiB, parallelism={settings.argon2_parallelism}.",
        "- Clients: threads in one process on the same machine, one keep-alive "
        "`requests.Session` each (connection opened before the clock starts); a fixed number "
        "of requests per level; only 200 answers count.",
        "- Floors: measured in this process just before and again just after each level; "
        "the ratio uses the two pooled (total operations / total seconds).",
        "- Re-run: `.venv/bin/python bench/server_enroll.py"
        f"{' --quick' if profile is QUICK else ''} --write docs/benchmarks.md`.",
    ]
    if result.dropped_env:
        lines.append(f"- Ignored from the environment: {', '.join(result.dropped_env)}.")
    lines += [
        "",
        "| endpoint | concurrency | requests | 200 | errors | seconds | enrolments/s "
        "| median latency (ms) | floor | floor/s | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for lv in result.levels:
        median = statistics.median(lv.latencies) * 1000 if lv.latencies else float("nan")
        floor = lv.floor
        threads = f"{floor.threads} thread{'s' if floor.threads > 1 else ''}"
        lines.append(
            f"| `{lv.endpoint}` | {lv.concurrency} | {lv.requests} | {lv.ok} | {len(lv.errors)} "
            f"| {lv.seconds:.2f} | {lv.rate:.1f} | {median:.0f} | {floor.what}, {threads} "
            f"| {floor.rate:.1f} | {lv.ratio:.2f} |"
        )
    lines += [
        "",
        "Floors beside each level (per second; the spread between before and after shows "
        "how noisy the machine was):",
        "",
        "| beside | floor | threads | operations, each side | before | after | pooled |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for lv in result.levels:
        before, after = lv.floor_before, lv.floor_after
        assert before is not None
        assert after is not None
        lines.append(
            f"| `{lv.endpoint}` c={lv.concurrency} | {before.what} | {before.threads} "
            f"| {before.operations} | {before.rate:.1f} | {after.rate:.1f} | {lv.floor.rate:.1f} |"
        )
    log = result.server_log
    statuses = ", ".join(f"{code} x{n}" for code, n in sorted(log.statuses.items()))
    lines += [
        "",
        f"Server access log, all POSTs of the run (preparation included): {statuses or 'none'}; "
        f"ERROR/traceback/'database is locked' lines: {len(log.problems)}.",
        "",
        "How to read the ratios:",
        "",
        "- `simpleenroll` ratio = enrolments/s ÷ argon2id verifications/s with as many threads "
        "as client workers. Each enrolment costs exactly one verification (one PIN per "
        "account), so the ratio should stay at or below about 1; near 1 means argon2 is the "
        "bottleneck, as intended; the rest of the gap is signing, TLS, the database and the "
        "client itself, which shares the same CPUs. A value above 1 means the floor was "
        "measured while a neighbour was busier (see the before/after spread).",
        "- `simplereenroll` ratio = renewals/s ÷ CA signatures/s on one thread. Each renewal "
        "costs one signature plus TLS, the CSR check, the certificate lookup and the database "
        "writes: the ratio is the share of one thread's signing rate that the whole service "
        "keeps. A small ratio means signing is not what limits renewals.",
        "- Compare ratios, not rates: rates move with the machine and its neighbours; "
        "a ratio that drops between runs means the server's own overhead grew.",
    ]
    return "\n".join(lines) + "\n"


def measure(
    level: Level,
    floor: Callable[[], Floor],
    run: Callable[[], list[tuple[Job, bytes]]],
    serials: set[int],
) -> Level:
    """Floor, server level, floor again: the floor is pooled from both sides of the level."""
    level.floor_before = floor()
    progress(f"{level.endpoint} x{level.requests} at concurrency {level.concurrency}")
    check_issued(level, run(), serials)
    level.floor_after = floor()
    return level


def benchmark(profile: Profile, work: Path) -> Run:
    data_dir = work / "data"
    progress("ccms-server init (RSA 3072 CA keys)")
    settings = init_data_dir(data_dir)
    paths = CaPaths(settings.data_dir)
    result = Run(profile, settings, ca_key_description(paths), load_average())

    identities_needed = sum(LEVELS)
    enroll_total = sum(profile.enroll)
    reenroll_total = sum(profile.reenroll)
    progress(f"generating {identities_needed + enroll_total + reenroll_total} RSA-2048 keys")
    keys = list(generate_keys(identities_needed + enroll_total + reenroll_total))
    identity_keys = keys[:identities_needed]
    enroll_keys = iter(keys[identities_needed : identities_needed + enroll_total])
    reenroll_keys = iter(keys[identities_needed + enroll_total :])

    progress(f"adding {identities_needed + enroll_total} accounts with terms accepted and PINs")
    credentials = prepare_accounts(settings, identities_needed + enroll_total)
    identity_credentials = credentials[:identities_needed]
    enroll_credentials = iter(credentials[identities_needed:])

    server = Server(data_dir)
    try:
        url = server.start()
        progress(f"server at {url}; issuing {identities_needed} certificates to renew")
        identities = make_identities(
            url, paths.trust_anchor, work / "clients", identity_credentials, identity_keys
        )
        ca = CertificateAuthority(paths, None)
        serials: set[int] = set()

        offset = 0
        for concurrency, count in zip(LEVELS, profile.reenroll, strict=True):
            mine = identities[offset : offset + concurrency]
            offset += concurrency
            per_worker = [
                [
                    Job(key, csr_body(key, ident.cert.subject), None)
                    for key in (next(reenroll_keys) for _ in range(count // concurrency))
                ]
                for ident in mine
            ]
            level = Level("simplereenroll", concurrency, count)
            result.levels.append(
                measure(
                    level,
                    partial(signing_floor, ca, identity_keys[0], profile.signings),
                    partial(
                        run_level,
                        level,
                        url,
                        paths.trust_anchor,
                        per_worker,
                        [i.files for i in mine],
                    ),
                    serials,
                )
            )

        for concurrency, count, verifies in zip(
            LEVELS, profile.enroll, profile.verifies, strict=True
        ):
            jobs = []
            for _ in range(count):
                key = next(enroll_keys)
                jobs.append(Job(key, csr_body(key), next(enroll_credentials)))
            level = Level("simpleenroll", concurrency, count)
            result.levels.append(
                measure(
                    level,
                    partial(argon2_floor, settings, concurrency, verifies),
                    partial(
                        run_level,
                        level,
                        url,
                        paths.trust_anchor,
                        split(jobs, concurrency),
                        [None] * concurrency,
                    ),
                    serials,
                )
            )

        if not server.alive():
            result.levels[-1].errors.append(f"the server process exited: {server.tail()}")
    finally:
        server.stop()
    result.load_after = load_average()
    result.server_log = read_server_log(settings, "POST")
    return result


def print_problems(result: Run) -> None:
    details = []
    for lv in result.levels:
        for message, n in Counter(lv.errors).most_common(5):
            details.append(f"{lv.endpoint} c={lv.concurrency}: {n} x {message}")
    details += [f"server log: {line}" for line in result.server_log.problems[:10]]
    if details:
        listing = "\n".join(f"- {d}" for d in details)
        print(f"Errors and server complaints:\n{listing}\n", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests: a rough check")
    parser.add_argument(
        "--write", metavar="FILE", type=Path, help="replace (or add) this section in FILE"
    )
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    dropped_env = clean_environment()
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="ccms-bench-"))
    try:
        result = benchmark(profile, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.dropped_env = dropped_env
    section = report(result)
    errors = sum(len(lv.errors) for lv in result.levels)
    print_problems(result)
    print(section)
    progress(f"done in {time.monotonic() - started:.0f} s")
    if errors:
        progress(f"{errors} request(s) failed; {args.write or 'nothing'} not written")
        return 1
    if args.write:
        write_section(args.write, "server_enroll", section)
        progress(f"wrote the section to {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
