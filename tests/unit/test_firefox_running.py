"""Is Firefox running with this profile? Real processes named firefox (a copy of `sleep`),
real POSIX locks and real /proc, and the Firefox store's bounded wait before a change."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ecmt.certstore._firefox import FirefoxProfileStore
from ecmt.certstore._firefox_running import firefox_using
from ecmt.certstore._nss_locations import FirefoxProfile
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import Profile
from fakes import MiniCA
from support import require_tool, rsa_key

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="/proc and Firefox's Linux profile lock"
)


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    folder = tmp_path / "abcd1234.default-release"
    folder.mkdir()
    (folder / "cert9.db").touch()
    (folder / ".parentlock").touch()
    return folder


@pytest.fixture
def firefox(tmp_path: Path) -> list[str]:
    """A program started as firefox (/proc/PID/comm says so) that sleeps for its first
    argument's seconds and ignores the others, as Firefox's -profile DIR."""
    path = tmp_path / "bin" / "firefox"
    path.parent.mkdir()
    path.symlink_to(sys.executable)
    return [str(path), "-c", "import sys, time; time.sleep(float(sys.argv[1]))"]


def start(*args: str, **options: object) -> subprocess.Popen[bytes]:
    """Started, and past its exec: Popen may return a moment before the kernel gives the
    child its new name."""
    process = subprocess.Popen(list(args), stdin=subprocess.DEVNULL, **options)  # type: ignore[call-overload]
    named = Path(args[0]).name
    comm = Path(f"/proc/{process.pid}/comm")
    deadline = time.monotonic() + 10
    while comm.exists() and comm.read_text().strip() != named:
        assert time.monotonic() < deadline, f"{named} did not start"
        time.sleep(0.01)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait(10)


def test_nothing_running(profile):
    assert firefox_using(profile) is None


def test_a_zombie_is_not_running(profile, firefox):
    process = start(*firefox, "0")
    (profile / "lock").symlink_to(f"127.0.1.1:+{process.pid}")
    deadline = time.monotonic() + 10
    while Path(f"/proc/{process.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert firefox_using(profile) is None
    process.wait()


def test_the_lock_link_of_a_running_firefox(profile, firefox):
    process = start(*firefox, "60")
    try:
        (profile / "lock").symlink_to(f"127.0.1.1:+{process.pid}")
        assert firefox_using(profile) == process.pid
    finally:
        stop(process)
    assert firefox_using(profile) is None  # a crash leaves the link: a dead process


def test_a_lock_link_to_another_program_does_not_count(profile):
    (profile / "lock").symlink_to(f"127.0.1.1:+{os.getpid()}")  # python, not firefox
    assert firefox_using(profile) is None
    (profile / "lock").unlink()
    (profile / "lock").symlink_to("garbage")
    assert firefox_using(profile) is None


def test_the_posix_lock_on_parentlock(profile):
    holder = start(
        sys.executable,
        "-c",
        "import fcntl, sys, time\n"
        "f = open(sys.argv[1], 'r+')\n"
        "fcntl.lockf(f, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n",
        str(profile / ".parentlock"),
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == b"locked\n"
        assert firefox_using(profile) == holder.pid
    finally:
        stop(holder)
        if holder.stdout:
            holder.stdout.close()
    assert firefox_using(profile) is None


def test_a_firefox_holding_a_file_of_the_profile_open(profile, firefox):
    with (profile / "cert9.db").open("rb") as database:
        process = start(*firefox, "60", pass_fds=[database.fileno()])
    try:
        assert firefox_using(profile) == process.pid
    finally:
        stop(process)


def test_a_firefox_started_with_the_profile_on_its_command_line(profile, firefox, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    process = start(*firefox, "60", "-profile", str(profile))
    try:
        assert firefox_using(profile) == process.pid
        assert firefox_using(other) is None
    finally:
        stop(process)


def issue() -> tuple[object, object]:
    ca = MiniCA()
    key = rsa_key()
    return key, ca.issue(key.public_key(), "5600001"), ca


@pytest.fixture
def profile_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    require_tool("certutil")
    require_tool("pk12util")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    folder = tmp_path / "x1.default-release"
    folder.mkdir(mode=0o700)
    subprocess.run(
        ["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"],
        check=True, capture_output=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return folder


def test_install_waits_for_firefox_to_quit_then_goes_ahead(profile_db, firefox):
    process = start(*firefox, "1.5")
    (profile_db / "lock").symlink_to(f"127.0.1.1:+{process.pid}")
    reaper = threading.Thread(target=process.wait)  # Firefox is not our child: no zombie
    reaper.start()
    store = FirefoxProfileStore(FirefoxProfile("default-release", profile_db), wait_seconds=30)
    key, cert, ca = issue()
    began = time.monotonic()
    try:
        stored = store.install(key, cert, [ca.issuing, ca.root], "ePractitioner Dr Fox")
    finally:
        reaper.join(10)
    assert time.monotonic() - began >= 1.0
    assert stored.has_private_key
    assert stored.location.startswith("Firefox profile default-release (NSS database ")


def test_install_stops_with_its_own_code_while_firefox_stays_open(profile_db, firefox):
    process = start(*firefox, "60")
    (profile_db / "lock").symlink_to(f"127.0.1.1:+{process.pid}")
    store = FirefoxProfileStore(FirefoxProfile("default-release", profile_db), wait_seconds=1)
    key, cert, ca = issue()
    try:
        with pytest.raises(EcmtError) as caught:
            store.install(key, cert, [ca.issuing, ca.root], "ePractitioner Dr Fox")
        assert caught.value.code is ErrorCode.STORE_BROWSER_RUNNING
        assert f"process {process.pid}" in (caught.value.detail or "")
        assert "default-release" in (caught.value.detail or "")
        with pytest.raises(EcmtError) as caught:
            store.remove("ab" * 32)
        assert caught.value.code is ErrorCode.STORE_BROWSER_RUNNING
        assert store.list(Profile()) == []  # reading goes ahead: nothing was installed
    finally:
        stop(process)


def test_a_profile_firefox_never_started_has_no_database_to_install_into(tmp_path):
    folder = tmp_path / "n3w.fresh"
    folder.mkdir()
    store = FirefoxProfileStore(FirefoxProfile("fresh", folder), wait_seconds=0)
    key, cert, ca = issue()
    with pytest.raises(EcmtError) as caught:
        store.install(key, cert, [ca.issuing, ca.root], "ePractitioner Dr Fox")
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE
    assert "start Firefox once" in (caught.value.detail or "")
    assert not (folder / "cert9.db").exists()
