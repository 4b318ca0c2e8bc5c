"""Demo mode: the reference server in-process on loopback, a demo account, a temporary
store. Everything lives in one temporary folder that is removed at exit."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ccms_server.bootstrap import build_services
from ccms_server.demo import prepare_demo
from ccms_server.server import ServerThread

from .. import __version__
from ..config import EcmtSettings, ReleaseKey, load_settings


@dataclass
class DemoEnvironment:
    folder: Path
    settings: EcmtSettings
    epoc: str
    pin: str
    server: ServerThread

    @property
    def letter(self) -> str:
        """The demo's PIN letter: each value on a line of its own, so a narrow panel never
        breaks the PIN at a hyphen, and a reader can copy it whole."""
        return (
            "A demonstration: nothing here touches a real service.\n\n"
            f"EPOC number:\n{self.epoc}\n\n"
            f"PIN:\n{self.pin}\n\n"
            "Type both on step 3, Log on. The certificate goes to a temporary folder "
            "that is removed when you quit."
        )

    def close(self) -> None:
        self.server.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_demo(folder: Path | None = None, version: str = __version__) -> DemoEnvironment:
    """Start the demo server and make client settings that point at it."""
    root = folder or Path(tempfile.mkdtemp(prefix="ecmt-demo-"))
    demo = prepare_demo(root / "server", version, rate_limit_per_minute=0)
    server = ServerThread(build_services(demo.settings)).start()
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
    return DemoEnvironment(root, settings, demo.epoc, demo.pin, server)
