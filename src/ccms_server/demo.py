"""`ccms-server demo`: a ready server with one account and a fresh PIN, in one command."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ccms_protocol.files import private_dir

from . import release, tokens
from .admin import Admin, AdminError
from .bootstrap import make_hasher
from .ca import CaPaths, init_ca
from .db.engine import make_sessions
from .settings import ServerSettings, load_settings

DEMO_EPOC = "8123456"
DEMO_INSTALL_PAGE = "https://www.eps.nds.scot.nhs.uk/CCMS/install.html"
DEMO_ACCOUNT = {
    "name": "Dr Alex Morgan",
    "organisation": "Riverside Pharmacy",
    "role": "Pharmacist",
}


@dataclass(frozen=True)
class DemoSetup:
    settings: ServerSettings
    epoc: str
    pin: str

    @property
    def trust_anchor(self) -> Path:
        return CaPaths(self.settings.data_dir).trust_anchor


def prepare_demo(data_dir: Path, client_version: str, **overrides: object) -> DemoSetup:
    """Initialise DATA_DIR if needed, make sure the demo account exists, issue a new PIN."""
    from importlib import resources

    settings = load_settings(data_dir, **overrides)
    paths = CaPaths(settings.data_dir)
    private_dir(settings.data_dir)
    admin = Admin(make_sessions(settings.effective_database_url), settings, make_hasher(settings))
    if not paths.is_initialised():
        init_ca(settings.data_dir, settings.hostnames, None, "ec-p256", "CCMS Demo")
        release.create_signing_key(paths.release_key, paths.release_public_key, None)
        tokens.create_key(paths.logon_token_key, None)
        text = resources.files("ccms_server").joinpath("resources/terms.md").read_text()
        admin.publish_terms("1", "Acceptable Use Policy", text)
    with contextlib.suppress(AdminError):
        admin.add_account(DEMO_EPOC, **DEMO_ACCOUNT)
    if not (settings.data_dir / "release.json").exists():
        publish_demo_release(paths, client_version, client_version)
    return DemoSetup(settings, DEMO_EPOC, admin.issue_pin(DEMO_EPOC))


def publish_demo_release(paths: CaPaths, latest: str, minimum: str) -> None:
    signed = release.manifest_body(
        serial=release.next_serial(paths.data_dir / "release.json"),
        latest=latest,
        minimum=minimum,
        install_page=DEMO_INSTALL_PAGE,
        notes="Demo release manifest.",
    )
    envelope = release.sign(signed, release.load_signing_key(paths.release_key, None))
    release.publish(envelope, paths.data_dir / "release.json", paths.release_public_key)


@contextlib.contextmanager
def demo_folder(data_dir: Path | None) -> Iterator[Path]:
    if data_dir is not None:
        yield data_dir
        return
    folder = Path(tempfile.mkdtemp(prefix="ccms-demo-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_demo(data_dir: Path | None, host: str, port: int) -> None:
    from importlib import metadata

    from .bootstrap import build_services
    from .logsetup import configure_logging
    from .server import Listening, run_forever

    try:
        version = metadata.version("ecmt")
    except metadata.PackageNotFoundError:
        version = "0.0.0"
    with demo_folder(data_dir) as folder:
        demo = prepare_demo(folder, version)
        configure_logging(demo.settings.effective_log_file)

        def announce(listening: Listening) -> None:
            line = {
                "url": listening.url,
                "trust_anchor": str(demo.trust_anchor),
                "epoc": demo.epoc,
                "pin": demo.pin,
                "data_dir": str(demo.settings.data_dir),
            }
            print(json.dumps(line), flush=True)

        run_forever(build_services(demo.settings), host, port, True, announce)
