"""Demo mode: the reference server in-process on loopback, a demo account, a temporary
store. Everything lives in one temporary folder that is removed at exit.

The PIN letter on screen behaves like the paper one: once its PIN has been used for a
certificate, the demo "posts" the next letter with a new PIN, as a Board would, so the
panel never shows a PIN that no longer works.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..config import EcmtSettings, ReleaseKey, load_settings
from ..domain.errors import EcmtError, ErrorCode

if TYPE_CHECKING:  # imported when the demo starts: a build may leave the server out
    from ccms_server.bootstrap import Services
    from ccms_server.server import ServerThread

FIRST_LETTER = (
    "Type both on step 3, Log on. The certificate goes to a temporary folder that is "
    "removed when you quit."
)
NEXT_LETTER = (
    "The PIN from your first letter was used for the certificate you have now. This is "
    "the next letter, as your Board would post it. While your certificate is valid you "
    "can also renew with it, without a PIN."
)


@dataclass
class DemoEnvironment:
    folder: Path
    settings: EcmtSettings
    epoc: str
    pin: str
    server: ServerThread
    services: Services
    letters: int = 1

    @property
    def letter(self) -> str:
        """The demo's PIN letter: each value on a line of its own, so a narrow panel never
        breaks the PIN at a hyphen, and a reader can copy it whole."""
        return (
            "A demonstration: nothing here touches a real service.\n\n"
            f"EPOC number:\n{self.epoc}\n\n"
            f"PIN:\n{self.pin}\n\n" + (FIRST_LETTER if self.letters == 1 else NEXT_LETTER)
        )

    def post_next_letter(self) -> str:
        """The PIN on screen was used: issue the next one (it supersedes the old) and
        return the new letter. Runs off the GUI thread: hashing a PIN takes a moment."""
        from ccms_server.admin import Admin

        admin = Admin(self.services.sessions, self.services.settings, self.services.hasher)
        self.pin = admin.issue_pin(self.epoc)
        self.letters += 1
        return self.letter

    def close(self) -> None:
        self.server.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_demo(folder: Path | None = None, version: str = __version__) -> DemoEnvironment:
    """Start the demo server and make client settings that point at it; DEMO_UNAVAILABLE
    in a build made without the reference server."""
    try:
        from ccms_server.bootstrap import build_services
        from ccms_server.demo import prepare_demo
        from ccms_server.server import ServerThread
    except ModuleNotFoundError as exc:
        if exc.name is None or not exc.name.startswith("ccms_server"):
            raise
        raise EcmtError(
            ErrorCode.DEMO_UNAVAILABLE, "this build was made without the reference server"
        ) from None
    root = folder or Path(tempfile.mkdtemp(prefix="ecmt-demo-"))
    demo = prepare_demo(root / "server", version, rate_limit_per_minute=0)
    services = build_services(demo.settings)
    server = ServerThread(services).start()
    keys = json.loads((root / "server" / "release-public-key.json").read_text())["keys"]
    settings = load_settings(
        server_url=server.url,
        trust_anchors=[demo.trust_anchor],
        store=f"files:{root / 'client' / 'store'}",
        data_dir=root / "client" / "data",
        state_dir=root / "client" / "state",
        log_dir=root / "client" / "logs",
        release_keys=[ReleaseKey(**k) for k in keys],
        default_epoc=demo.epoc,
        backup_folder=root / "client" / "backups",
        approval_deadline_seconds=60,
    )
    return DemoEnvironment(root, settings, demo.epoc, demo.pin, server, services)
