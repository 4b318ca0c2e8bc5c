"""The command line's shape: options and subcommands. Light on imports, so that `ecmt`
without a subcommand (the desktop app) and `--help` never load the network stack."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import EcmtSettings

BACKUP_FORMATS = ("legacy", "modern")
JSON_HELP = "print one JSON document on stdout for scripts (messages go to stderr)"


def settings_from_args(args: argparse.Namespace) -> EcmtSettings:
    from ..config import load_settings

    return load_settings(
        Path(args.config) if args.config else None,
        server_url=args.server,
        trust_anchors=[Path(p) for p in args.trust_anchor] if args.trust_anchor else None,
        store=args.store,
    )


def add_status(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epoc", help="only this EPOC number's certificates")
    parser.add_argument("--json", action="store_true", help=JSON_HELP)


def days(text: str) -> int:
    """`30d` or `30`: a whole number of days, 0 or more."""
    value = text.strip().lower().removesuffix("d")
    if not value.isdigit() or len(value) > 5:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days, like 30d")
    return int(value)


def add_renew(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epoc", help="default: from the installed certificate")
    pin = parser.add_mutually_exclusive_group()
    pin.add_argument("--pin-stdin", action="store_true", help="read the PIN from stdin")
    pin.add_argument("--pin-file", help="read the PIN from this file")
    pin.add_argument(
        "--with-current-cert",
        "--current",
        dest="with_current_cert",
        action="store_true",
        help="renew with the current valid certificate instead of a PIN",
    )
    parser.add_argument(
        "--if-expiring-within",
        type=days,
        metavar="DAYS",
        help="unattended: renew with the current certificate only when it has this many "
        "days left or fewer (30d); otherwise do nothing (exit code 12)",
    )
    parser.add_argument(
        "--accept-terms",
        action="store_true",
        help="accept the current terms of use (read them with: ecmt terms)",
    )
    parser.add_argument("--backup", help="also write a verified PKCS#12 backup to this path")
    parser.add_argument("--backup-password-file", help="the backup password, in a file")
    parser.add_argument(
        "--backup-format",
        choices=list(BACKUP_FORMATS),
        help="legacy: opens on every Windows and Mac (the default); "
        "modern: AES-256, needs Windows 10 1709+ or a recent Mac",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing backup")
    parser.add_argument("--json", action="store_true", help=JSON_HELP)


def add_backup(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="the backup file to write (.p12)")
    parser.add_argument("--password-file", required=True, help="the backup password, in a file")
    parser.add_argument(
        "--format",
        choices=list(BACKUP_FORMATS),
        help="legacy (opens everywhere, the default) or modern (AES-256)",
    )
    parser.add_argument("--fingerprint", help="which certificate (default: the newest valid)")
    parser.add_argument("--epoc", help="whose certificate (default: the one installed)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file")
    parser.add_argument("--json", action="store_true", help=JSON_HELP)


def add_terms(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help=JSON_HELP)


def add_check_release(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help=JSON_HELP)


REMIND_ACTIONS = ("install", "remove", "status", "list", "run")


def add_remind(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=REMIND_ACTIONS,
        help="install or remove the daily check, say what is installed (status, list), "
        "or run the check now (run: what the scheduler starts)",
    )
    parser.add_argument(
        "--hour",
        type=int,
        choices=range(24),
        default=10,
        metavar="0-23",
        help="install: at "
        "this hour, local time (default 10; the check also runs when a missed one is due)",
    )
    parser.add_argument(
        "--as-system",
        action="store_true",
        help="install, Windows machine store only: run as SYSTEM, which renews unattended "
        "but cannot show reminders",
    )
    parser.add_argument("--json", action="store_true", help=JSON_HELP)


def add_doctor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help=JSON_HELP)


SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "status": ("show the ePractitioner certificates installed here", add_status),
    "renew": ("renew the certificate (PIN or current certificate)", add_renew),
    "backup": ("write a verified PKCS#12 backup of an installed certificate", add_backup),
    "terms": ("show the current terms of use (the Acceptable Use Policy)", add_terms),
    "check-release": ("check for a newer or required version of ecmt", add_check_release),
    "remind": ("reminders before the certificate expires: a daily check", add_remind),
    "doctor": ("check the connection to the service, and explain each finding", add_doctor),
}
