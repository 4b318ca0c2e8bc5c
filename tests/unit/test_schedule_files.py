"""The daily check's files in the real formats (Task XML against the Task Scheduler schema,
the LaunchAgent through plistlib, the systemd units through `systemd-analyze verify`, the
crontab line), and each scheduler's exact commands through a recording runner, for the
platforms whose tools cannot run here."""

from __future__ import annotations

import plistlib
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from lxml import etree

from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.services.runner import Completed
from ecmt.services.schedule import (
    CRON_MARK,
    LAUNCHD_LABEL,
    Cron,
    Job,
    LaunchAgent,
    SystemdUser,
    WindowsTasks,
    cron_line,
    launch_agent_plist,
    pick_scheduler,
    systemd_units,
    task_xml,
)

SCHEMA = Path(__file__).parent / "schemas" / "task-1.2-subset.xsd"
NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
WIN_JOB = Job((r"C:\Program Files\ecmt\ecmt.exe", "--store", "windows:user", "remind", "run"))
POSIX_JOB = Job(("/opt/e c%m$t/bin/ecmt", "--config", "/etc/ecmt/x y.toml", "remind", "run"), 9)


class FakeRunner:
    """Records argv and stdin; answers from a table of (argv prefix -> Completed)."""

    def __init__(self, answers: dict[tuple[str, ...], Completed] | None = None) -> None:
        self.calls: list[tuple[tuple[str, ...], str | None]] = []
        self.answers = answers or {}
        self.files_seen: dict[str, bytes] = {}

    def __call__(
        self, argv: Sequence[str], *, stdin: str | None = None, timeout: float = 60.0
    ) -> Completed:
        args = tuple(argv)
        self.calls.append((args, stdin))
        if "/XML" in args:  # the task file exists only while schtasks runs: keep it
            path = args[args.index("/XML") + 1]
            self.files_seen[path] = Path(path).read_bytes()
        for prefix, answer in self.answers.items():
            if args[: len(prefix)] == prefix:
                return Completed(args, answer.returncode, answer.stdout, answer.stderr)
        return Completed(args, 0)

    @property
    def argvs(self) -> list[tuple[str, ...]]:
        return [argv for argv, _ in self.calls]


def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


# --- Windows -----------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["user", "machine", "system"])
def test_task_xml_is_valid_against_the_task_scheduler_schema(scope):
    data = task_xml(WIN_JOB, scope, r"PRACTICE\alex")
    assert data.startswith(b"\xff\xfe")  # UTF-16 with its byte order mark, as Windows writes
    document = etree.fromstring(data)
    schema().assertValid(document)
    assert document.get("version") == "1.2"
    exec_ = document.find("t:Actions/t:Exec", NS)
    assert exec_.findtext("t:Command", namespaces=NS) == r"C:\Program Files\ecmt\ecmt.exe"
    assert exec_.findtext("t:Arguments", namespaces=NS) == "--store windows:user remind run"
    daily = document.find("t:Triggers/t:CalendarTrigger", NS)
    assert daily.findtext("t:StartBoundary", namespaces=NS).endswith("T10:00:00")
    assert daily.findtext("t:ScheduleByDay/t:DaysInterval", namespaces=NS) == "1"
    assert document.findtext("t:Settings/t:StartWhenAvailable", namespaces=NS) == "true"
    assert b"Password" not in data.decode("utf-16").encode()  # no stored password, ever


def test_task_principals_per_scope():
    def principal(scope: str) -> dict[str, str]:
        document = etree.fromstring(task_xml(WIN_JOB, scope, r"PRACTICE\alex"))
        found = document.find("t:Principals/t:Principal", NS)
        return {etree.QName(child).localname: child.text for child in found}

    assert principal("user") == {
        "UserId": r"PRACTICE\alex",
        "LogonType": "InteractiveToken",
        "RunLevel": "LeastPrivilege",
    }
    assert principal("machine") == {"GroupId": "S-1-5-32-545", "RunLevel": "LeastPrivilege"}
    assert principal("system") == {
        "UserId": "S-1-5-18",
        "LogonType": "ServiceAccount",
        "RunLevel": "HighestAvailable",
    }


def test_the_schema_refuses_what_task_scheduler_would_refuse():
    """The schema subset is not a rubber stamp: a wrong logon type or a missing command fails."""
    good = task_xml(WIN_JOB, "user", r"PRACTICE\alex").decode("utf-16")
    bad_logon = good.replace("InteractiveToken", "Interactive")
    no_command = good.replace("<Command>", "<Arguments>").replace("</Command>", "</Arguments>")
    for text in (bad_logon, no_command):
        document = etree.fromstring(text.encode("utf-16"))
        assert not schema().validate(document)


def test_task_arguments_are_quoted_for_windows():
    job = Job((r"C:\ecmt\ecmt.exe", "--config", r"C:\Board settings\ecmt.toml", "remind", "run"))
    document = etree.fromstring(task_xml(job, "user", "alex"))
    arguments = document.findtext("t:Actions/t:Exec/t:Arguments", namespaces=NS)
    assert arguments == r'--config "C:\Board settings\ecmt.toml" remind run'


def test_windows_tasks_commands(tmp_path):
    runner = FakeRunner({("schtasks", "/Query"): Completed((), 1, "", "ERROR: not found")})
    tasks = WindowsTasks(runner, "user", r"PRACTICE\alex")
    installed = tasks.install(WIN_JOB)
    name = r"\ecmt\Certificate check (PRACTICE-alex)"
    ((argv, _),) = runner.calls
    assert argv[:3] == ("schtasks", "/Create", "/XML")
    assert argv[4:] == ("/TN", name, "/F")
    assert runner.files_seen[argv[3]] == task_xml(WIN_JOB, "user", r"PRACTICE\alex")
    assert not Path(argv[3]).exists()  # the file went with its folder
    assert installed.where == name
    assert tasks.status() is None
    assert tasks.remove() is False  # nothing to delete: no /Delete was sent
    assert all(a[1] != "/Delete" for a in runner.argvs)

    present = FakeRunner()
    tasks = WindowsTasks(present, "machine", r"PRACTICE\alex")
    assert tasks.remove() is True
    assert present.argvs[-1] == (
        "schtasks",
        "/Delete",
        "/TN",
        r"\ecmt\Certificate check (this computer)",
        "/F",
    )


def test_a_refusal_by_schtasks_is_scheduler_failed():
    runner = FakeRunner({("schtasks",): Completed((), 1, "", "ERROR: Access is denied.")})
    with pytest.raises(EcmtError) as raised:
        WindowsTasks(runner, "machine", "alex").install(WIN_JOB)
    assert raised.value.code is ErrorCode.SCHEDULER_FAILED
    assert "Access is denied" in raised.value.detail


# --- macOS -------------------------------------------------------------------------------


def test_launch_agent_plist_round_trips_with_the_keys_launchd_needs():
    data = plistlib.loads(launch_agent_plist(POSIX_JOB))
    assert data == {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": list(POSIX_JOB.command),
        "StartCalendarInterval": {"Hour": 9, "Minute": 0},
        "RunAtLoad": True,
        "ProcessType": "Background",
    }


def test_launch_agent_commands(tmp_path):
    runner = FakeRunner()
    agent = LaunchAgent(runner, tmp_path, 501)
    agent.install(POSIX_JOB)
    plist = tmp_path / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"
    assert plistlib.loads(plist.read_bytes())["Label"] == LAUNCHD_LABEL
    assert runner.argvs == [("launchctl", "bootstrap", "gui/501", str(plist))]
    agent.install(POSIX_JOB)  # again: the loaded one is booted out first
    assert runner.argvs[1:] == [
        ("launchctl", "bootout", "gui/501", str(plist)),
        ("launchctl", "bootstrap", "gui/501", str(plist)),
    ]
    assert agent.status().active
    assert runner.argvs[-1] == ("launchctl", "print", f"gui/501/{LAUNCHD_LABEL}")
    assert agent.remove() is True
    assert runner.argvs[-1] == ("launchctl", "bootout", "gui/501", str(plist))
    assert not plist.exists()
    assert agent.remove() is False


# --- Linux -------------------------------------------------------------------------------


def test_systemd_units_quote_the_command():
    service, timer = systemd_units(POSIX_JOB)
    assert (
        'ExecStart="/opt/e c%%m$$t/bin/ecmt" --config "/etc/ecmt/x y.toml" remind run\n' in service
    )
    assert "Type=oneshot" in service
    assert "OnCalendar=*-*-* 09:00:00" in timer
    assert "Persistent=true" in timer
    assert "WantedBy=timers.target" in timer


def test_systemd_analyze_verifies_the_units(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (Debian: systemd)")
    program = tmp_path / "ecmt"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    service, timer = systemd_units(Job((str(program), "remind", "run")))
    (tmp_path / "ecmt-remind.service").write_text(service)
    (tmp_path / "ecmt-remind.timer").write_text(timer)
    done = subprocess.run(
        [
            tool,
            "verify",
            "--man=no",
            str(tmp_path / "ecmt-remind.service"),
            str(tmp_path / "ecmt-remind.timer"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # and it does find faults: a unit whose program is not there
    (tmp_path / "broken.service").write_text(service.replace(str(program), "/nonexistent/ecmt"))
    broken = subprocess.run(
        [tool, "verify", "--man=no", str(tmp_path / "broken.service")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert broken.returncode != 0


def test_systemd_user_commands(tmp_path):
    runner = FakeRunner({("systemctl", "--user", "is-active"): Completed((), 0, "active\n")})
    systemd = SystemdUser(runner, tmp_path / ".config")
    installed = systemd.install(POSIX_JOB)
    service, timer = systemd.files
    assert service.read_text() == systemd_units(POSIX_JOB)[0]
    assert timer.read_text() == systemd_units(POSIX_JOB)[1]
    assert runner.argvs == [
        ("systemctl", "--user", "daemon-reload"),
        ("systemctl", "--user", "enable", "--now", "ecmt-remind.timer"),
    ]
    assert installed.where == str(timer)
    assert systemd.status().active
    assert systemd.remove() is True
    assert runner.argvs[-2:] == [
        ("systemctl", "--user", "disable", "--now", "ecmt-remind.timer"),
        ("systemctl", "--user", "daemon-reload"),
    ]
    assert not service.exists()
    assert not timer.exists()
    assert systemd.status() is None


def test_cron_line_quotes_and_escapes_percent():
    line = cron_line(POSIX_JOB, [("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus")])
    assert line.startswith("0 9 * * * DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus ")
    assert "'/opt/e c\\%m$t/bin/ecmt' --config '/etc/ecmt/x y.toml' remind run" in line
    assert line.endswith(CRON_MARK)


def test_cron_keeps_the_users_other_lines():
    theirs = "MAILTO=alex\n30 2 * * * /usr/local/bin/backup-photos\n"
    runner = FakeRunner({("crontab", "-l"): Completed((), 0, theirs)})
    cron = Cron(runner)
    cron.install(POSIX_JOB)
    (argv, written) = runner.calls[-1]
    assert argv == ("crontab", "-")
    assert written == theirs + cron_line(POSIX_JOB) + "\n"


def test_cron_without_a_crontab_yet_and_removing_again():
    runner = FakeRunner({("crontab", "-l"): Completed((), 1, "", "no crontab for alex")})
    cron = Cron(runner)
    cron.install(POSIX_JOB)
    assert runner.calls[-1] == (("crontab", "-"), cron_line(POSIX_JOB) + "\n")
    assert cron.remove() is False  # `crontab -l` still says there is none
    listing = "MAILTO=alex\n" + cron_line(POSIX_JOB) + "\n"
    runner.answers[("crontab", "-l")] = Completed((), 0, listing)
    assert cron.status() is not None
    assert cron.remove() is True
    assert runner.calls[-1] == (("crontab", "-"), "MAILTO=alex\n")


def test_linux_picks_systemd_then_cron_then_says_none(tmp_path):
    reachable = FakeRunner()
    found = pick_scheduler(
        reachable,
        store_value="nss",
        platform="linux",
        home=tmp_path,
        environ={},
        which=lambda name: f"/usr/bin/{name}",
        uid=1000,
    )
    assert found.name == "systemd"
    assert reachable.argvs == [("systemctl", "--user", "show-environment")]
    no_session = FakeRunner(
        {("systemctl",): Completed((), 1, "", "Failed to connect to bus: No medium found")}
    )
    found = pick_scheduler(
        no_session,
        store_value="nss",
        platform="linux",
        home=tmp_path,
        environ={},
        which=lambda name: f"/usr/bin/{name}",
        uid=1000,
    )
    assert isinstance(found, Cron)
    assert found.environment == [("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus")]
    with pytest.raises(EcmtError) as raised:
        pick_scheduler(
            no_session,
            store_value="nss",
            platform="linux",
            home=tmp_path,
            environ={},
            which=lambda name: None,
            uid=1000,
        )
    assert raised.value.code is ErrorCode.SCHEDULER_UNAVAILABLE


def test_windows_scope_follows_the_store_and_as_system_is_machine_only(tmp_path):
    runner = FakeRunner()
    pick = lambda store, system=False: pick_scheduler(  # noqa: E731
        runner,
        store_value=store,
        as_system=system,
        platform="win32",
        home=tmp_path,
        environ={"USERDOMAIN": "PRACTICE", "USERNAME": "alex"},
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("USERDOMAIN", "PRACTICE")
        patch.setenv("USERNAME", "alex")
        assert pick("windows:user").scope == "user"
        assert pick("windows:machine").scope == "machine"
        assert pick("windows:machine", True).scope == "system"
    with pytest.raises(EcmtError) as raised:
        pick("windows:user", True)
    assert raised.value.code is ErrorCode.CONFIG_INVALID
