"""The daily check (`ecmt remind run`) registered with the operating system's scheduler.

- Windows: a Task Scheduler task made from a generated Task XML (schema 1.2) with
  `schtasks /Create /XML FILE /TN NAME /F`. No password is ever stored. For a per-user store
  the task runs as that user with their interactive token. For the machine store
  (LocalMachine\\My) it runs, by default, as whichever member of the built-in Users group
  is logged on (S-1-5-32-545, least privilege): everyone who uses the computer sees the
  reminder, and nobody's password is needed; such a task cannot write to LocalMachine\\My,
  so it never renews by itself. `as_system` makes it run as LocalSystem (S-1-5-18) with the
  highest privileges instead: it can renew the machine store unattended, but SYSTEM has no
  desktop, so it shows no reminder (it logs).
- macOS: a LaunchAgent plist in ~/Library/LaunchAgents, `launchctl bootstrap gui/UID PLIST`.
- Linux: a systemd user timer and service in ~/.config/systemd/user; where no systemd user
  manager answers, a line in the user's crontab (their other lines are kept).

Every command goes through a `Runner`, so tests assert the exact argv where the real tool
cannot run. Generating the files is pure and tested against the real formats.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol
from xml.sax.saxutils import escape

from ccms_protocol.files import write_atomic

from ..domain.errors import EcmtError, ErrorCode
from .runner import Completed, Runner

NAME = "ecmt-remind"
LAUNCHD_LABEL = "uk.nhs.scot.ecmt.remind"
TASK_FOLDER = "\\ecmt\\"
CRON_MARK = f"# {NAME}: the daily ePractitioner certificate check (ecmt remind)"
DESCRIPTION = "ePractitioner certificate: the daily expiry check (ecmt remind run)"
TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
USERS_GROUP_SID = "S-1-5-32-545"
LOCAL_SYSTEM_SID = "S-1-5-18"
TaskScope = Literal["user", "machine", "system"]


@dataclass(frozen=True)
class Job:
    """What runs every day: the program and its arguments, at `hour` local time."""

    command: tuple[str, ...]
    hour: int = 10


@dataclass(frozen=True)
class Installed:
    scheduler: str  # "systemd", "cron", "launchd", "task-scheduler"
    where: str  # the files or the task name, for people to find it
    active: bool
    detail: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "scheduler": self.scheduler,
            "where": self.where,
            "active": self.active,
            "detail": self.detail,
        }


class Scheduler(Protocol):
    name: str

    def install(self, job: Job) -> Installed: ...

    def remove(self) -> bool:
        """Take the daily check away; False when there was none."""
        ...

    def status(self) -> Installed | None: ...


def _failed(done: Completed) -> EcmtError:
    return EcmtError(ErrorCode.SCHEDULER_FAILED, done.said())


# --- the command the scheduler runs --------------------------------------------------------


def ecmt_program(platform: str = sys.platform) -> tuple[str, ...]:
    """The `ecmt` program as the scheduler must start it: the frozen app itself, or the
    console script installed beside this Python."""
    if getattr(sys, "frozen", False):
        return (sys.executable,)
    script = Path(sys.executable).parent / ("ecmt.exe" if platform == "win32" else "ecmt")
    if script.is_file():
        return (str(script),)
    found = shutil.which("ecmt")
    if found:
        return (str(Path(found).resolve()),)
    raise EcmtError(ErrorCode.SCHEDULER_UNAVAILABLE, "the ecmt program cannot be found")


# --- Windows: Task Scheduler ---------------------------------------------------------------


def task_name(scope: TaskScope, user: str) -> str:
    if scope == "user":
        return f"{TASK_FOLDER}Certificate check ({user.replace(chr(92), '-')})"
    return f"{TASK_FOLDER}Certificate check (this computer)"


def task_xml(job: Job, scope: TaskScope, user: str, start: datetime | None = None) -> bytes:
    """Task Scheduler schema 1.2, UTF-16 as Windows writes it. `user` is DOMAIN\\name."""
    begin = (start or datetime(2026, 1, 1)).replace(hour=job.hour, minute=0, second=0)
    if scope == "user":
        principal = (
            f"<UserId>{escape(user)}</UserId><LogonType>InteractiveToken</LogonType>"
            "<RunLevel>LeastPrivilege</RunLevel>"
        )
        logon = f"<LogonTrigger><Enabled>true</Enabled><UserId>{escape(user)}</UserId>"
    elif scope == "machine":
        principal = f"<GroupId>{USERS_GROUP_SID}</GroupId><RunLevel>LeastPrivilege</RunLevel>"
        logon = "<LogonTrigger><Enabled>true</Enabled>"
    else:
        principal = (
            f"<UserId>{LOCAL_SYSTEM_SID}</UserId><LogonType>ServiceAccount</LogonType>"
            "<RunLevel>HighestAvailable</RunLevel>"
        )
        logon = "<BootTrigger><Enabled>true</Enabled>"
    logon += "<Delay>PT10M</Delay>" + ("</BootTrigger>" if scope == "system" else "</LogonTrigger>")
    program, *arguments = job.command
    text = (
        '<?xml version="1.0" encoding="UTF-16"?>\n'
        f'<Task version="1.2" xmlns="{TASK_NS}">'
        "<RegistrationInfo>"
        f"<Author>ecmt</Author><Description>{escape(DESCRIPTION)}</Description>"
        f"<URI>{escape(task_name(scope, user))}</URI>"
        "</RegistrationInfo>"
        "<Triggers>"
        "<CalendarTrigger><Enabled>true</Enabled>"
        f"<StartBoundary>{begin:%Y-%m-%dT%H:%M:%S}</StartBoundary>"
        "<RandomDelay>PT1H</RandomDelay>"
        "<ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay>"
        "</CalendarTrigger>"
        f"{logon}"
        "</Triggers>"
        f'<Principals><Principal id="Author">{principal}</Principal></Principals>'
        "<Settings>"
        "<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>"
        "<DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>"
        "<StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>"
        "<StartWhenAvailable>true</StartWhenAvailable>"
        "<RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>"
        "<AllowStartOnDemand>true</AllowStartOnDemand>"
        "<Enabled>true</Enabled>"
        "<Hidden>false</Hidden>"
        "<ExecutionTimeLimit>PT1H</ExecutionTimeLimit>"
        "</Settings>"
        '<Actions Context="Author"><Exec>'
        f"<Command>{escape(program)}</Command>"
        f"<Arguments>{escape(subprocess.list2cmdline(arguments))}</Arguments>"
        "</Exec></Actions>"
        "</Task>\n"
    )
    return text.encode("utf-16")


@dataclass
class WindowsTasks:
    runner: Runner
    scope: TaskScope
    user: str
    name: str = "task-scheduler"

    @property
    def task(self) -> str:
        return task_name(self.scope, self.user)

    def install(self, job: Job) -> Installed:
        folder = Path(tempfile.mkdtemp(prefix="ecmt-task-"))
        xml = folder / "task.xml"
        try:
            write_atomic(xml, task_xml(job, self.scope, self.user))
            done = self.runner(["schtasks", "/Create", "/XML", str(xml), "/TN", self.task, "/F"])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if not done.ok:
            raise _failed(done)
        return Installed(self.name, self.task, True, _scope_words(self.scope))

    def remove(self) -> bool:
        if self.status() is None:
            return False
        done = self.runner(["schtasks", "/Delete", "/TN", self.task, "/F"])
        if not done.ok:
            raise _failed(done)
        return True

    def status(self) -> Installed | None:
        done = self.runner(["schtasks", "/Query", "/TN", self.task, "/FO", "LIST"])
        if not done.ok:
            return None
        return Installed(self.name, self.task, True, _scope_words(self.scope))


def _scope_words(scope: TaskScope) -> str:
    return {
        "user": "runs as you, with your own sign-in (no password stored)",
        "machine": "runs for whoever is signed in (the Users group; no password stored)",
        "system": "runs as SYSTEM (renews the machine store; shows no reminder)",
    }[scope]


# --- macOS: a LaunchAgent --------------------------------------------------------------------


def launch_agent_plist(job: Job) -> bytes:
    return plistlib.dumps(
        {
            "Label": LAUNCHD_LABEL,
            "ProgramArguments": list(job.command),
            "StartCalendarInterval": {"Hour": job.hour, "Minute": 0},
            "RunAtLoad": True,
            "ProcessType": "Background",
        }
    )


@dataclass
class LaunchAgent:
    runner: Runner
    home: Path
    uid: int
    name: str = "launchd"

    @property
    def plist(self) -> Path:
        return self.home / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"

    @property
    def domain(self) -> str:
        return f"gui/{self.uid}"

    def install(self, job: Job) -> Installed:
        if self.plist.exists():  # a second install replaces the first
            self.runner(["launchctl", "bootout", self.domain, str(self.plist)])
        write_atomic(self.plist, launch_agent_plist(job), 0o644)
        done = self.runner(["launchctl", "bootstrap", self.domain, str(self.plist)])
        if not done.ok:
            raise _failed(done)
        return Installed(self.name, str(self.plist), True)

    def remove(self) -> bool:
        if not self.plist.exists():
            return False
        self.runner(["launchctl", "bootout", self.domain, str(self.plist)])
        self.plist.unlink()
        return True

    def status(self) -> Installed | None:
        if not self.plist.exists():
            return None
        loaded = self.runner(["launchctl", "print", f"{self.domain}/{LAUNCHD_LABEL}"]).ok
        return Installed(self.name, str(self.plist), loaded, "" if loaded else "not loaded")


# --- Linux: systemd user units, or cron -------------------------------------------------------


def _systemd_word(word: str) -> str:
    """One ExecStart argument in systemd's own quoting; % and $ are specifiers there."""
    word = word.replace("%", "%%").replace("$", "$$")
    if word and all(c.isalnum() or c in "/._-+:=@," for c in word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_units(job: Job) -> tuple[str, str]:
    """The service and the timer (ecmt-remind.service, ecmt-remind.timer)."""
    service = (
        "[Unit]\n"
        f"Description={DESCRIPTION}\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={' '.join(_systemd_word(w) for w in job.command)}\n"
    )
    timer = (
        "[Unit]\n"
        f"Description={DESCRIPTION}, every day\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar=*-*-* {job.hour:02d}:00:00\n"
        "RandomizedDelaySec=1h\n"
        "Persistent=true\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return service, timer


@dataclass
class SystemdUser:
    runner: Runner
    config_home: Path  # XDG_CONFIG_HOME, normally ~/.config
    name: str = "systemd"

    @property
    def folder(self) -> Path:
        return self.config_home / "systemd" / "user"

    @property
    def files(self) -> tuple[Path, Path]:
        return self.folder / f"{NAME}.service", self.folder / f"{NAME}.timer"

    def reachable(self) -> bool:
        return self.runner(["systemctl", "--user", "show-environment"]).ok

    def _systemctl(self, *args: str) -> Completed:
        return self.runner(["systemctl", "--user", *args])

    def install(self, job: Job) -> Installed:
        service, timer = systemd_units(job)
        write_atomic(self.files[0], service.encode(), 0o644)
        write_atomic(self.files[1], timer.encode(), 0o644)
        for args in (("daemon-reload",), ("enable", "--now", f"{NAME}.timer")):
            done = self._systemctl(*args)
            if not done.ok:
                raise _failed(done)
        return Installed(self.name, str(self.files[1]), True)

    def remove(self) -> bool:
        if not any(f.exists() for f in self.files):
            return False
        self._systemctl("disable", "--now", f"{NAME}.timer")
        for file in self.files:
            file.unlink(missing_ok=True)
        done = self._systemctl("daemon-reload")
        if not done.ok:
            raise _failed(done)
        return True

    def status(self) -> Installed | None:
        if not self.files[1].exists():
            return None
        active = self._systemctl("is-active", f"{NAME}.timer").stdout.strip() == "active"
        return Installed(self.name, str(self.files[1]), active, "" if active else "not active")


def cron_line(job: Job, environment: Sequence[tuple[str, str]] = ()) -> str:
    """One crontab line; cron reads % as a line break, so it is escaped."""
    words = [*(f"{k}={shlex.quote(v)}" for k, v in environment), *map(shlex.quote, job.command)]
    return f"0 {job.hour} * * * {' '.join(words).replace('%', chr(92) + '%')} {CRON_MARK}"


@dataclass
class Cron:
    runner: Runner
    environment: Sequence[tuple[str, str]] = ()  # e.g. the session bus, for notify-send
    name: str = "cron"

    def _lines(self) -> list[str]:
        done = self.runner(["crontab", "-l"])
        if done.ok:
            return done.stdout.splitlines()
        if "no crontab" in done.stderr.lower():
            return []
        raise _failed(done)

    def _write(self, lines: list[str]) -> None:
        text = "".join(f"{line}\n" for line in lines)
        done = self.runner(["crontab", "-"], stdin=text)
        if not done.ok:
            raise _failed(done)

    def install(self, job: Job) -> Installed:
        lines = [line for line in self._lines() if CRON_MARK not in line]
        self._write([*lines, cron_line(job, self.environment)])
        return Installed(self.name, "your crontab (crontab -l)", True)

    def remove(self) -> bool:
        lines = self._lines()
        kept = [line for line in lines if CRON_MARK not in line]
        if kept == lines:
            return False
        self._write(kept)
        return True

    def status(self) -> Installed | None:
        if not any(CRON_MARK in line for line in self._lines()):
            return None
        return Installed(self.name, "your crontab (crontab -l)", True)


# --- choosing one ----------------------------------------------------------------------------


def windows_user() -> str:
    domain = os.environ.get("USERDOMAIN", "")
    user = os.environ.get("USERNAME", "")
    return f"{domain}\\{user}" if domain else user


def pick_scheduler(
    runner: Runner,
    *,
    store_value: str,
    as_system: bool = False,
    platform: str = sys.platform,
    home: Path | None = None,
    environ: dict[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    uid: int | None = None,
) -> Scheduler:
    """The scheduler for this platform and store. SCHEDULER_UNAVAILABLE where none is."""
    env = dict(os.environ if environ is None else environ)
    home = home or Path.home()
    if as_system and not (platform == "win32" and store_value.startswith("windows:machine")):
        raise EcmtError(
            ErrorCode.CONFIG_INVALID, "--as-system is for the Windows machine store only"
        )
    if platform == "win32":
        scope: TaskScope = (
            "system" if as_system else "machine" if store_value == "windows:machine" else "user"
        )
        return WindowsTasks(runner, scope, windows_user())
    if platform == "darwin":
        return LaunchAgent(runner, home, os.getuid() if uid is None else uid)
    config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    systemd = SystemdUser(runner, config_home)
    if which("systemctl") and systemd.reachable():
        return systemd
    if which("crontab"):
        user_id = os.getuid() if uid is None else uid
        bus = env.get("DBUS_SESSION_BUS_ADDRESS") or f"unix:path=/run/user/{user_id}/bus"
        return Cron(runner, [("DBUS_SESSION_BUS_ADDRESS", bus)])
    raise EcmtError(
        ErrorCode.SCHEDULER_UNAVAILABLE,
        "no systemd user session answers (systemctl --user) and there is no crontab",
    )


def install_daily_check(
    runner: Runner,
    *,
    store_value: str,
    needs_elevation: bool,
    options: Sequence[str] = (),
    hour: int = 10,
    as_system: bool = False,
) -> Installed:
    """`ecmt remind install`, and the "Remind me before it expires" box: the check with
    the same store and settings files as this run. A check for everyone on a Windows
    computer is set up by an administrator."""
    scheduler = pick_scheduler(runner, store_value=store_value, as_system=as_system)
    if getattr(scheduler, "scope", "user") != "user" and needs_elevation:
        raise EcmtError(
            ErrorCode.STORE_ELEVATION_REQUIRED,
            "a check for everyone on this computer is set up by an administrator",
        )
    return scheduler.install(Job((*ecmt_program(), *options, "remind", "run"), hour=hour))
