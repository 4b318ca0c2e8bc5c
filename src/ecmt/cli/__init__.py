"""`ecmt`: the headless client for IT administrators. Subcommand names are an interface.

Exit codes (docs/cli.md): 0 done, 1 unexpected, 2 usage, 3 authentication, 4 terms not
accepted, 5 network or service, 6 certificate store, 7 this version is blocked, 8 backup,
9 still waiting for approval, 10 the issued certificate failed a check, 11 release
information not trustworthy, 130 cancelled.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..domain.errors import EcmtError, ErrorCode
from .arguments import SUBCOMMANDS, settings_from_args
from .output import Output, exit_code_for


def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """The same options before or after the subcommand; the later one wins."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--config", default=default, help="an extra configuration file")
    parser.add_argument("--server", default=default, help="CCMS URL, https://...")
    parser.add_argument(
        "--trust-anchor",
        action="append",
        default=default,
        help="PEM file of CA certificates to trust for the server (repeatable)",
    )
    parser.add_argument(
        "--store",
        default=default,
        help="nss[:DIR] | firefox[:PROFILE] | files[:DIR] | windows:machine|user | "
        "macos:login|system; several with commas: nss,firefox",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="also log each step in detail (to the log file; never a PIN or password)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecmt", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ecmt {__version__}")
    _global_options(parser, suppress=False)
    parser.add_argument(
        "--demo", action="store_true", help="open the wizard against a built-in demo service"
    )
    sub = parser.add_subparsers(
        dest="command", required=False, title="commands (without one, the desktop app opens)"
    )
    for name, (help_text, add_arguments) in SUBCOMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        _global_options(command, suppress=True)
        add_arguments(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Output(json_mode=getattr(args, "json", False))
    try:
        if args.command is None:
            return _desktop(args)
        if args.command == "status":  # the light path: no network or renewal modules
            from .status_command import run_status

            return run_status(args, out)
        from .commands import RUNNERS

        return RUNNERS[args.command](args, out)
    except EcmtError as error:
        out.error(error)
        return exit_code_for(error.code)
    except KeyboardInterrupt:
        out.error(EcmtError(ErrorCode.CANCELLED, "interrupted"))
        return 130
    except Exception as exc:  # one handler for the unforeseen: code, log, no traceback
        import logging

        logging.getLogger("ecmt").exception("unexpected error")
        out.error(EcmtError(ErrorCode.UNEXPECTED, type(exc).__name__))
        return 1


def _desktop(args: argparse.Namespace) -> int:
    """No subcommand: the wizard (Qt is imported only now, so scripts never pay for it)."""
    from pathlib import Path

    from ..config_files import start_values
    from ..ui.main import run_gui

    if args.demo:
        return run_gui(None, demo=True)
    start = start_values(Path(args.config) if args.config else None, args.store)
    return run_gui(lambda: settings_from_args(args), start=start)


if __name__ == "__main__":
    sys.exit(main())
