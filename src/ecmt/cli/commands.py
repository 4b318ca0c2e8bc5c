"""The subcommands: status, renew, backup, terms, check-release, remind, doctor. Each returns
its exit status."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from ..app import App, build_app
from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import BackupFormat, ClientIdentity, PinCredentials, RenewalStage
from ..domain.password_policy import check_pair
from ..logsetup import REDACTOR, configure
from ..services.backup import write_backup
from ..services.release import raise_if_blocked
from ..services.renewal import RenewalRequest, RenewalResult
from .arguments import settings_from_args
from .output import Output
from .status_command import run_status

STAGES = list(RenewalStage)


def _app(args: argparse.Namespace) -> App:
    settings = settings_from_args(args)
    configure(settings.log_dir, args.verbose)
    return build_app(settings)


def _read_secret(path: str | None, from_stdin: bool, what: str) -> SecretStr | None:
    """A secret from a file or one line of stdin, never from argv; registered for masking."""
    if from_stdin:
        text = sys.stdin.readline()
    elif path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise EcmtError(ErrorCode.CONFIG_INVALID, f"{what} file: {exc.strerror}") from None
    else:
        return None
    value = text.rstrip("\r\n")
    REDACTOR.register(value)
    return SecretStr(value)


# --- status ----------------------------------------------------------------------------


# --- renew -----------------------------------------------------------------------------


def run_renew(args: argparse.Namespace, out: Output) -> int:
    if args.if_expiring_within is not None:  # the unattended path has its own rules
        from .scheduled import run_unattended_renew

        return run_unattended_renew(args, out)
    app = _app(args)
    backup_password = None
    if args.backup:  # check the backup inputs before anything is sent
        backup_password = _read_secret(args.backup_password_file, False, "backup password")
        if backup_password is not None:
            check_pair(backup_password.get_secret_value(), backup_password.get_secret_value())
        if backup_password is None:
            raise EcmtError(
                ErrorCode.BACKUP_PASSWORD_POLICY, "--backup needs --backup-password-file"
            )
    app.server_url()  # before anything is read or sent: a missing server is said as such
    epoc = args.epoc or app.status.installed_epoc() or app.settings.default_epoc
    if not epoc:
        raise EcmtError(
            ErrorCode.EPOC_MISSING,
            f"no --epoc, no certificate in {app.store.description} to read it from, "
            "and no default_epoc setting",
        )

    credentials: PinCredentials | None = None
    current: ClientIdentity | None = None
    if args.with_current_cert:
        current = app.current_identity(epoc)
        account = app.logon.logon_with_certificate(current)
    else:
        pin = _read_secret(args.pin_file, args.pin_stdin, "PIN")
        if pin is None:
            raise EcmtError(
                ErrorCode.PIN_MISSING, "use --pin-stdin, --pin-file or --with-current-cert"
            )
        credentials = app.logon.credentials(epoc, pin)
        pending = app.renewal.has_pending(credentials.epoc, "enroll")
        if pending:
            out.say("Resuming the earlier renewal that did not finish.")
        try:  # also when resuming: the terms may have changed since (nothing was issued)
            account = app.logon.logon(credentials)
        except EcmtError as refused:
            # the earlier request used this PIN up, so it was issued: resume it, no logon
            if refused.code is not ErrorCode.PIN_USED or not pending:
                raise
            account = None
    if account is not None:
        out.say(
            f"Logged on as {account.display_name}, {account.organisation} (EPOC {account.epoc})."
        )
        terms = app.terms.current()
        if app.terms.needs_acceptance(account, terms):
            if not args.accept_terms:
                raise EcmtError(
                    ErrorCode.TERMS_REQUIRED,
                    f'"{terms.title}" version {terms.version}: re-run with --accept-terms',
                )
            app.terms.accept(terms, credentials, current)
            out.say(f'Accepted "{terms.title}" version {terms.version}.')
        epoc = account.epoc

    request = RenewalRequest(epoc=epoc, credentials=credentials, current=current, account=account)
    result = app.renewal.renew(request, _progress(out))
    app.status.remember_cas(list(result.identity.chain))
    payload: dict[str, Any] = _renewal_payload(app, result)
    human = [
        f"Installed: {result.installed.label or result.installed.fingerprint[:16]} in "
        f"{result.installed.location}, valid until "
        f"{result.identity.certificate.not_valid_after_utc:%d %B %Y}."
    ]
    if result.removed:
        human.append(f"Removed {len(result.removed)} superseded certificate(s).")
    if args.backup and backup_password is not None:
        target = Path(args.backup)
        backup = write_backup(
            result.identity,
            target.parent,
            target.name,
            backup_password,
            backup_password,
            BackupFormat(args.backup_format or app.settings.backup_format),
            overwrite=args.overwrite,
        )
        payload["backup"] = {
            "path": str(backup.path),
            "format": backup.format.value,
            "sha256": backup.sha256,
        }
        human.append(f"Backup saved and checked: {backup.path}")
    human.extend(app.settings.notices)
    out.result(payload, "\n".join(human))
    return 0


def _progress(out: Output) -> Callable[[RenewalStage, str | None], None]:
    def report(stage: RenewalStage, note: str | None) -> None:
        step = STAGES.index(stage) + 1
        out.say(f"[{step}/{len(STAGES)}] {stage.value}" + (f": {note}" if note else ""))

    return report


def _renewal_payload(app: App, result: RenewalResult) -> dict[str, Any]:
    status = next(
        (s for s in app.status.certificates() if s.fingerprint == result.installed.fingerprint),
        None,
    )
    return {
        "certificate": status.as_json()
        if status
        else {"fingerprint": result.installed.fingerprint},
        "removed": [r.fingerprint for r in result.removed],
        "kept": [k.fingerprint for k in result.kept],
        "recovered": result.recovered,
        "reference": result.reference,
        "backup": None,
        "notices": app.settings.notices,
    }


# --- backup ----------------------------------------------------------------------------


def run_backup(args: argparse.Namespace, out: Output) -> int:
    app = _app(args)
    password = _read_secret(args.password_file, False, "backup password")
    assert password is not None
    if args.fingerprint:
        identity = app.store.load_identity(args.fingerprint.lower())
    else:
        epoc = args.epoc or app.status.installed_epoc()
        if not epoc:
            raise EcmtError(ErrorCode.NO_CURRENT_CERT, "no certificate to back up: use --epoc")
        identity = app.current_identity(epoc)
    target = Path(args.out)
    result = write_backup(
        identity,
        target.parent,
        target.name,
        password,
        password,
        BackupFormat(args.format or app.settings.backup_format),
        overwrite=args.overwrite,
    )
    out.result(
        {
            "path": str(result.path),
            "format": result.format.value,
            "sha256": result.sha256,
            "size": result.size,
        },
        f"Backup saved and checked: {result.path} ({result.format.plain_words})",
    )
    return 0


# --- terms ---------------------------------------------------------------------------


def run_terms(args: argparse.Namespace, out: Output) -> int:
    """Show the current terms, so that --accept-terms is an informed choice."""
    terms = _app(args).terms.current()
    out.result(terms.model_dump(), f"{terms.title} (version {terms.version})\n\n{terms.text}")
    return 0


# --- check-release ---------------------------------------------------------------------


def run_check_release(args: argparse.Namespace, out: Output) -> int:
    app = _app(args)
    with app.api() as api:
        decision = app.release.run(api.client_release)
    payload = {
        "verdict": decision.verdict,
        "running_version": decision.running_version,
        "latest_version": decision.latest_version,
        "minimum_version": decision.minimum_version,
        "install_page": decision.install_page,
        "serial": decision.serial,
        "artifact": decision.artifact.model_dump() if decision.artifact else None,
    }
    if decision.verdict == "block" and out.json_mode:
        print(json.dumps({"status": "blocked", **payload}, indent=2))
        return 7
    raise_if_blocked(decision)
    human = {
        "offer": f"Version {decision.latest_version} is available: {decision.install_page}",
        "fine": f"ecmt {decision.running_version} is up to date.",
    }[decision.verdict]
    out.result(payload, human)
    return 0


# --- remind, doctor (cli/scheduled.py, imported when they run) ----------------------


def run_remind(args: argparse.Namespace, out: Output) -> int:
    from .scheduled import run_remind as run

    return run(args, out)


def run_doctor(args: argparse.Namespace, out: Output) -> int:
    from .scheduled import run_doctor as run

    return run(args, out)


RUNNERS: dict[str, Callable[[argparse.Namespace, Output], int]] = {
    "status": run_status,  # cli/status_command.py: `ecmt status` does not load this module
    "renew": run_renew,
    "backup": run_backup,
    "terms": run_terms,
    "check-release": run_check_release,
    "remind": run_remind,
    "doctor": run_doctor,
}
