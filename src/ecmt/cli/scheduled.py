"""`ecmt remind …`, `ecmt renew --current --if-expiring-within DAYS` and `ecmt doctor`.

Imported only when one of them runs: the scheduler, notifier and doctor code stays out of
every other command's start.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain.errors import EcmtError, ErrorCode
from ..services.reminders import STATE_FILE, Notifier, ReminderCheck
from ..services.runner import Runner, SubprocessRunner
from ..services.schedule import (
    Cron,
    Installed,
    Job,
    Scheduler,
    SystemdUser,
    ecmt_program,
    pick_scheduler,
)
from .output import NOT_DUE, Output, exit_code_for

if TYPE_CHECKING:
    from ..app import App
    from ..services.renewal import RenewalResult
    from ..services.status import CertificateStatus
    from ..services.unattended import UnattendedRenewal

# Tests replace these: the OS tools, and how the desktop program is started on a click.
RUNNER: Runner = SubprocessRunner()


def _app(args: argparse.Namespace) -> App:
    from .commands import _app as build

    return build(args)


def carried_options(args: argparse.Namespace) -> list[str]:
    """The global options of this run, for the scheduled check and a click's program."""
    options: list[str] = []
    if args.config:
        options += ["--config", str(Path(args.config).resolve())]
    if args.server:
        options += ["--server", args.server]
    for anchor in args.trust_anchor or []:
        options += ["--trust-anchor", str(Path(anchor).resolve())]
    if args.store:
        options += ["--store", args.store]
    return options


# --- unattended renewal -------------------------------------------------------------------------


def unattended_for(app: App) -> UnattendedRenewal:
    from ..services.renewal import RenewalRequest
    from ..services.unattended import UnattendedRenewal

    def renew(current: CertificateStatus) -> RenewalResult:
        identity = app.store.load_identity(current.fingerprint)
        account = app.logon.logon_with_certificate(identity)
        terms = app.terms.current()
        if app.terms.needs_acceptance(account, terms):
            raise EcmtError(
                ErrorCode.TERMS_REQUIRED,
                f'"{terms.title}" version {terms.version} must be accepted by a person first',
            )
        request = RenewalRequest(epoc=account.epoc, current=identity, account=account)
        result = app.renewal.renew(request)
        app.status.remember_cas(list(result.identity.chain))
        return result

    return UnattendedRenewal(
        statuses=app.status.certificates,
        needs_elevation=app.store.needs_elevation,
        renew=renew,
        state_file=app.settings.state_dir / STATE_FILE,
    )


def run_unattended_renew(args: argparse.Namespace, out: Output) -> int:
    if args.pin_stdin or args.pin_file or args.backup:
        raise EcmtError(
            ErrorCode.CONFIG_INVALID,
            "--if-expiring-within renews with the current certificate and makes no backup: "
            "leave out --pin-stdin, --pin-file and --backup",
        )
    app = _app(args)
    app.server_url()
    outcome = unattended_for(app).run(args.if_expiring_within)
    current = outcome.current
    if not outcome.renewed:
        payload = {
            "status": "not-due",
            "certificate": current.as_json(),
            "days_left": current.days_left,
            "within_days": args.if_expiring_within,
        }
        if out.json_mode:
            print(json.dumps(payload, indent=2))
        else:
            print(
                f"Nothing to do: the certificate has {current.days_left} days left, more than "
                f"{args.if_expiring_within}."
            )
        return NOT_DUE
    result = outcome.result
    assert result is not None
    from .commands import _renewal_payload

    payload = _renewal_payload(app, result)
    payload["unattended"] = True
    human = [
        f"Renewed without a person: {result.installed.label or result.installed.fingerprint[:16]}"
        f" in {result.installed.location}, valid until "
        f"{result.identity.certificate.not_valid_after_utc:%d %B %Y}.",
        "Make a new backup of it (ecmt backup, or Back up in the program).",
        *app.settings.notices,
    ]
    out.result(payload, "\n".join(human))
    return 0


# --- remind -------------------------------------------------------------------------------------


def _schedulers(app: App, args: argparse.Namespace) -> list[Scheduler]:
    """For status and remove: every kind that may hold our check here (on Linux both the
    systemd user units and the crontab, whichever was used)."""
    if sys.platform.startswith("linux"):
        found: list[Scheduler] = []
        import os

        config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        systemd = SystemdUser(RUNNER, config_home)
        if any(f.exists() for f in systemd.files):
            found.append(systemd)
        if shutil.which("crontab"):
            found.append(Cron(RUNNER))
        return found
    return [pick_scheduler(RUNNER, store_value=app.store_value, as_system=args.as_system)]


def run_remind(args: argparse.Namespace, out: Output) -> int:
    action = "status" if args.action == "list" else args.action
    if action == "run":
        return remind_run(args, out)
    app = _app(args)
    if action == "install":
        return _install(app, args, out)
    if action == "remove":
        removed = [s.name for s in _schedulers(app, args) if s.remove()]
        out.result(
            {"removed": removed},
            f"The daily check was removed ({', '.join(removed)})."
            if removed
            else "There was no daily check to remove.",
        )
        return 0
    found = [i for i in (s.status() for s in _schedulers(app, args)) if i is not None]
    out.result(
        {"installed": [i.as_json() for i in found], "auto_renew": app.settings.auto_renew},
        "\n".join(_installed_words(i) for i in found)
        if found
        else "No daily check is set up. Set one up with: ecmt remind install",
    )
    return 0


def _installed_words(installed: Installed) -> str:
    state = "active" if installed.active else f"NOT active ({installed.detail})"
    return f"A daily check is set up with {installed.scheduler}: {installed.where}; {state}."


def _install(app: App, args: argparse.Namespace, out: Output) -> int:
    from ..services.schedule import install_daily_check

    options = carried_options(args)
    installed = install_daily_check(
        RUNNER,
        store_value=app.store_value,
        needs_elevation=app.store.needs_elevation(),
        options=options,
        hour=args.hour,
        as_system=args.as_system,
    )
    job = Job((*ecmt_program(), *options, "remind", "run"), hour=args.hour)
    auto = (
        "It also renews with the current certificate when "
        f"{app.settings.renewal_window_days} days or fewer are left (auto_renew)."
        if app.settings.auto_renew
        else "It does not renew by itself (auto_renew is off)."
    )
    out.result(
        {"installed": installed.as_json(), "command": list(job.command), "hour": job.hour},
        f"A daily check is set up with {installed.scheduler} ({installed.where}), every day "
        f"at {job.hour:02d}:00. It reminds you 60, 30, 14, 7, 3 and 1 days before the "
        f"certificate expires. {auto}",
    )
    return 0


def pick_notifier(program: list[str]) -> Notifier:
    from ..services.notify import LogOnly, NotifySend, OsaScript, open_program

    on_click = open_program(program)
    if sys.platform == "darwin":
        return OsaScript(RUNNER, on_click)
    if sys.platform.startswith("linux") and shutil.which("notify-send"):
        return NotifySend(RUNNER, on_click)
    import os

    if sys.platform == "win32" or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        from ..ui.notify import TrayNotifier  # Qt only here, and only when it is needed

        return TrayNotifier(on_click)
    return LogOnly()


def remind_run(args: argparse.Namespace, out: Output) -> int:
    app = _app(args)
    notifier = pick_notifier([*ecmt_program(), *carried_options(args)])
    auto: Callable[[int], Any] | None = None
    if app.settings.auto_renew:
        unattended = unattended_for(app)
        auto = unattended.run
    check = ReminderCheck(
        statuses=app.status.certificates,
        notifier=notifier,
        state_file=app.settings.state_dir / STATE_FILE,
        window_days=app.settings.renewal_window_days,
        auto_renew=auto,
    )
    result = check.run()
    reminder = result.shown
    payload = {
        "reminder": {"kind": reminder.kind, "title": reminder.title, "text": reminder.text}
        if reminder
        else None,
        "shown": result.delivered,
        "log": result.line,
    }
    if out.json_mode:
        out.result(payload, "")
    elif reminder is not None:  # quiet when nothing is due
        out.result(payload, f"{reminder.title}. {reminder.text}")
    return 0


# --- doctor -------------------------------------------------------------------------------------

_SYMBOL = {"ok": "✔", "warning": "!", "problem": "✖"}


def run_doctor(args: argparse.Namespace, out: Output) -> int:
    from ..services.doctor import check_connection
    from ..services.findings import worst

    app = _app(args)
    findings = check_connection(app)
    first = worst(findings)
    levels = {f.level.value for f in findings}
    overall = "problem" if "problem" in levels else "warning" if "warning" in levels else "ok"
    lines = [f"Checking the connection to {app.settings.server_url or '(no service set up)'}:"]
    for finding in findings:
        code = f" [{finding.code.value}]" if finding.code else ""
        lines.append(f"  {_SYMBOL[finding.level.value]} {finding.check}: {finding.words}{code}")
    out.result(
        {
            "server_url": app.settings.server_url,
            "result": overall,
            "findings": [f.as_json() for f in findings],
        },
        "\n".join(lines),
    )
    return exit_code_for(first.code) if first is not None and first.code else 0
