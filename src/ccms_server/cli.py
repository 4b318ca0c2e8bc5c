"""`ccms-server`: the operator's command line. Subcommand names are an interface; keep them."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections.abc import Callable, Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from ccms_protocol.files import write_atomic
from ccms_protocol.wire import ReleaseManifest

from . import release, tokens
from .admin import Admin, AdminError
from .bootstrap import build_services, make_hasher, passphrase_of
from .ca import CaLayoutError, CaPaths, init_ca, issue_tls_identity
from .db.engine import make_sessions
from .keys import KeyFileError
from .logsetup import configure_logging
from .settings import CONFIG_FILE_NAME, ServerSettings, load_settings

DEFAULT_INSTALL_PAGE = "https://www.eps.nds.scot.nhs.uk/CCMS/install.html"


class CliError(Exception):
    """Printed as `ccms-server: error: ...` with exit status 1."""


def _settings(args: argparse.Namespace, **overrides: Any) -> ServerSettings:
    passphrase = None
    if getattr(args, "passphrase_file", None):
        passphrase = Path(args.passphrase_file).read_text().rstrip("\r\n")
    return load_settings(Path(args.data_dir), key_passphrase=passphrase, **overrides)


def _admin(settings: ServerSettings) -> Admin:
    return Admin(make_sessions(settings.effective_database_url), settings, make_hasher(settings))


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2, default=str))


# --- init, serve, tls, maintenance -------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir).resolve()
    config: dict[str, Any] = {"hostnames": ["localhost", "127.0.0.1", *args.hostname]}
    if args.database_url:
        config["database_url"] = args.database_url
    settings = _settings(args, **config)
    paths = init_ca(
        data_dir, settings.hostnames, passphrase_of(settings), args.key_type, args.organisation
    )
    _update_config(data_dir, **config)
    release.create_signing_key(paths.release_key, paths.release_public_key, passphrase_of(settings))
    tokens.create_key(paths.logon_token_key, passphrase_of(settings))
    admin = _admin(settings)
    text = resources.files("ccms_server").joinpath("resources/terms.md").read_text()
    admin.publish_terms("1", "Acceptable Use Policy", text)
    print(f"initialised {data_dir}")
    print(f"trust anchor for clients: {paths.trust_anchor}")


def cmd_serve(args: argparse.Namespace) -> None:
    settings = _settings(args)
    if args.plain_http and not settings.trusted_proxies:
        raise CliError("--plain-http needs trusted_proxies in the configuration")
    _serve(
        settings,
        args.host,
        args.port,
        not args.plain_http,
        lambda listening: print(f"listening on {listening.url}", flush=True),
    )


def _serve(
    settings: ServerSettings, host: str, port: int, tls: bool, on_listening: Callable[[Any], None]
) -> None:
    from .server import run_forever

    configure_logging(settings.effective_log_file)
    run_forever(build_services(settings), host, port, tls, on_listening)


def cmd_tls_issue(args: argparse.Namespace) -> None:
    settings = _settings(args)
    hostnames = list(dict.fromkeys([*settings.hostnames, *args.hostname]))
    issue_tls_identity(CaPaths(settings.data_dir), hostnames, passphrase_of(settings))
    _update_config(settings.data_dir, hostnames=hostnames)
    print(f"issued a TLS certificate for {', '.join(dict.fromkeys(hostnames))}; restart serve")


def cmd_logon_token_rotate(args: argparse.Namespace) -> None:
    settings = _settings(args)
    tokens.create_key(CaPaths(settings.data_dir).logon_token_key, passphrase_of(settings))
    print(
        "made a new logon-token key; restart every serve process. Tokens issued before "
        "stop working: clients send the PIN again instead"
    )


def _update_config(data_dir: Path, **values: Any) -> None:
    """Merge `values` into DATA_DIR's config file, so the next command sees them too."""
    config_file = data_dir / CONFIG_FILE_NAME
    config = tomllib.loads(config_file.read_text()) if config_file.exists() else {}
    config.update(values)
    write_atomic(config_file, tomli_w.dumps(config).encode(), 0o600)


def cmd_maintenance(args: argparse.Namespace) -> None:
    flag = Path(args.data_dir) / "maintenance"
    if args.state == "on":
        write_atomic(flag, f"{args.retry_after}\n".encode(), 0o644)
        print("maintenance on: clients get 503 CCMS-UNAVAILABLE")
    else:
        flag.unlink(missing_ok=True)
        print("maintenance off")


# --- accounts, PINs, terms ---------------------------------------------------------------


def cmd_account_add(args: argparse.Namespace) -> None:
    _admin(_settings(args)).add_account(args.epoc, args.name, args.organisation, args.role)
    print(f"added account {args.epoc}")


def cmd_account_unlock(args: argparse.Namespace) -> None:
    _admin(_settings(args)).unlock(args.epoc)
    print(f"unlocked account {args.epoc}")


def cmd_pin_issue(args: argparse.Namespace) -> None:
    print(_admin(_settings(args)).issue_pin(args.epoc, args.valid_days))


def cmd_terms_publish(args: argparse.Namespace) -> None:
    text = Path(args.file).read_text(encoding="utf-8")
    digest = _admin(_settings(args)).publish_terms(args.version, args.title, text)
    print(f"published terms version {args.version} (sha256 {digest})")


# --- requests, certificates --------------------------------------------------------------


def cmd_requests_list(args: argparse.Namespace) -> None:
    _print_json(_admin(_settings(args)).list_requests(args.status))


def cmd_requests_approve(args: argparse.Namespace) -> None:
    _admin(_settings(args)).approve_request(args.id)
    print(f"approved request {args.id}")


def cmd_certs_list(args: argparse.Namespace) -> None:
    _print_json(_admin(_settings(args)).list_certificates(args.epoc))


def cmd_certs_revoke(args: argparse.Namespace) -> None:
    _admin(_settings(args)).revoke(args.serial, args.reason)
    print(f"revoked {args.serial}")


# --- release manifests -------------------------------------------------------------------


def _client_version() -> str:
    try:
        return metadata.version("ecmt")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def cmd_release_sign(args: argparse.Namespace) -> None:
    settings = _settings(args)
    paths = CaPaths(settings.data_dir)
    key = release.load_signing_key(
        Path(args.key) if args.key else paths.release_key, passphrase_of(settings)
    )
    signed = release.manifest_body(
        serial=args.serial or release.next_serial(settings.data_dir / "release.json"),
        latest=args.latest_version or _client_version(),
        minimum=args.minimum_version
        or _published_minimum(settings.data_dir)
        or args.latest_version
        or _client_version(),
        install_page=args.install_page,
        notes=args.notes,
        artifacts=[_artifact(spec) for spec in args.artifact],
        channel=args.channel,
        days=args.expires_days,
    )
    envelope = json.dumps(release.sign(signed, key), indent=2) + "\n"
    if args.out:
        write_atomic(Path(args.out), envelope.encode(), 0o644)
        print(f"signed release manifest serial {signed['serial']} -> {args.out}")
    else:
        sys.stdout.write(envelope)


def _published_minimum(data_dir: Path) -> str | None:
    """Keep the served minimum unless told otherwise: a new release must not block by accident."""
    published = data_dir / "release.json"
    if not published.exists():
        return None
    return ReleaseManifest.model_validate_json(published.read_bytes()).body().minimum_version


def _artifact(spec: str) -> dict[str, Any]:
    parts = spec.split(",")
    if len(parts) != 5:
        raise CliError(f"--artifact wants platform,kind,url,sha256,size; got {spec!r}")
    platform, kind, url, sha256, size = parts
    return {"platform": platform, "kind": kind, "url": url, "sha256": sha256, "size": int(size)}


def cmd_release_publish(args: argparse.Namespace) -> None:
    paths = CaPaths(Path(args.data_dir).resolve())
    envelope = json.loads(Path(args.file).read_text())
    files = [Path(name) for name in args.artifact_file]
    # the packages first: a client that sees the manifest finds them already there
    for path in release.publish_artifacts(
        envelope, files, paths.data_dir, paths.release_public_key
    ):
        print(f"serving {path.name} at /ccms/v1/releases/{path.name}")
    body = release.publish(envelope, paths.data_dir / "release.json", paths.release_public_key)
    print(f"published release manifest serial {body.serial} (latest {body.latest_version})")


# --- demo --------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> None:
    from .demo import run_demo

    run_demo(Path(args.data_dir) if args.data_dir else None, args.host, args.port)


# --- parser ------------------------------------------------------------------------------


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _data_dir(parser: argparse.ArgumentParser, passphrase: bool = False) -> None:
    parser.add_argument(
        "--data-dir",
        required="CCMS_DATA_DIR" not in os.environ,
        default=os.environ.get("CCMS_DATA_DIR"),
        help="the server's data folder (or CCMS_DATA_DIR)",
    )
    if passphrase:
        parser.add_argument(
            "--passphrase-file",
            help="file holding the private-key passphrase (or CCMS_KEY_PASSPHRASE)",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ccms-server", description="Reference CCMS server")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create the CA, TLS identity, database and release key")
    _data_dir(p, passphrase=True)
    p.add_argument("--hostname", action="append", default=[], help="extra TLS host name")
    p.add_argument(
        "--key-type",
        default="rsa3072",
        choices=["rsa2048", "rsa3072", "rsa4096", "ec-p256", "ec-p384"],
    )
    p.add_argument("--organisation", default="CCMS Reference")
    p.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in the data folder)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("serve", help="serve EST and the CCMS API over TLS")
    _data_dir(p, passphrase=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443, help="0 picks a free port")
    p.add_argument(
        "--plain-http",
        action="store_true",
        help="behind a TLS-terminating proxy: plain HTTP, trusted proxies only",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="init + demo account + PIN + serve, print one JSON line")
    p.add_argument("--data-dir", help="keep the demo here (default: a temporary folder)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.set_defaults(func=cmd_demo)

    tls = sub.add_parser("tls", help="the server's TLS certificate").add_subparsers(
        dest="action", required=True
    )
    p = tls.add_parser("issue", help="re-issue the TLS certificate (e.g. new host names)")
    _data_dir(p, passphrase=True)
    p.add_argument("--hostname", action="append", default=[])
    p.set_defaults(func=cmd_tls_issue)

    token = sub.add_parser("logon-token", help="the key that signs logon tokens").add_subparsers(
        dest="action", required=True
    )
    p = token.add_parser("rotate", help="replace the key; tokens issued so far stop working")
    _data_dir(p, passphrase=True)
    p.set_defaults(func=cmd_logon_token_rotate)

    p = sub.add_parser("maintenance", help="answer 503 CCMS-UNAVAILABLE while on")
    _data_dir(p)
    p.add_argument("state", choices=["on", "off"])
    p.add_argument("--retry-after", type=int, default=600)
    p.set_defaults(func=cmd_maintenance)

    account = sub.add_parser("account", help="practitioner accounts").add_subparsers(
        dest="action", required=True
    )
    p = account.add_parser("add")
    _data_dir(p)
    p.add_argument("--epoc", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--organisation", required=True)
    p.add_argument("--role", required=True)
    p.set_defaults(func=cmd_account_add)
    p = account.add_parser("unlock", help="clear a lockout after identity checks")
    _data_dir(p)
    p.add_argument("--epoc", required=True)
    p.set_defaults(func=cmd_account_unlock)

    pin = sub.add_parser("pin", help="enrolment PINs").add_subparsers(dest="action", required=True)
    p = pin.add_parser("issue", help="print a new PIN (shown only now); older PINs stop working")
    _data_dir(p)
    p.add_argument("--epoc", required=True)
    p.add_argument("--valid-days", type=_positive, help="default: pin_validity_days (60)")
    p.set_defaults(func=cmd_pin_issue)

    terms = sub.add_parser("terms", help="terms of use").add_subparsers(
        dest="action", required=True
    )
    p = terms.add_parser("publish")
    _data_dir(p)
    p.add_argument("--version", required=True)
    p.add_argument("--title", default="Acceptable Use Policy")
    p.add_argument("--file", required=True, help="UTF-8 text of the terms")
    p.set_defaults(func=cmd_terms_publish)

    rel = sub.add_parser("release", help="signed client-release manifest").add_subparsers(
        dest="action", required=True
    )
    p = rel.add_parser("sign", help="sign a manifest with the release key")
    _data_dir(p, passphrase=True)
    p.add_argument("--key", help="Ed25519 key PEM (default: the data folder's release key)")
    p.add_argument("--latest-version")
    p.add_argument("--minimum-version")
    p.add_argument("--install-page", default=DEFAULT_INSTALL_PAGE)
    p.add_argument("--channel", default="stable")
    p.add_argument("--serial", type=int, help="default: one above the published serial")
    p.add_argument("--expires-days", type=int, default=30)
    p.add_argument("--notes", default="")
    p.add_argument(
        "--artifact", action="append", default=[], help="platform,kind,url,sha256,size (repeatable)"
    )
    p.add_argument("--out", help="write here instead of standard output")
    p.set_defaults(func=cmd_release_sign)
    p = rel.add_parser("publish", help="verify and serve a signed manifest")
    _data_dir(p)
    p.add_argument("file")
    p.add_argument(
        "--artifact-file",
        action="append",
        default=[],
        help="a package the manifest names (by SHA-256 and size), served at "
        "/ccms/v1/releases/NAME (repeatable)",
    )
    p.set_defaults(func=cmd_release_publish)

    req = sub.add_parser("requests", help="enrolments waiting for approval").add_subparsers(
        dest="action", required=True
    )
    p = req.add_parser("list")
    _data_dir(p)
    p.add_argument("--status", choices=["pending", "approved", "issued"])
    p.set_defaults(func=cmd_requests_list)
    p = req.add_parser("approve")
    _data_dir(p)
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_requests_approve)

    certs = sub.add_parser("certs", help="issued certificates").add_subparsers(
        dest="action", required=True
    )
    p = certs.add_parser("list")
    _data_dir(p)
    p.add_argument("--epoc")
    p.set_defaults(func=cmd_certs_list)
    p = certs.add_parser("revoke")
    _data_dir(p)
    p.add_argument("serial", help="hex serial as `certs list` shows it")
    p.add_argument("--reason", default="unspecified")
    p.set_defaults(func=cmd_certs_revoke)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (CliError, AdminError, CaLayoutError, KeyFileError, release.ReleaseError) as exc:
        print(f"ccms-server: error: {exc}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        print(f"ccms-server: error: configuration: {problems}", file=sys.stderr)
        return 1
    except (OSError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        print(f"ccms-server: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
