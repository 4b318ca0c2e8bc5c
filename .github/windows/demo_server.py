"""`ccms-server demo` for the Windows CI job: the same demo account, PIN and JSON line,
served from a thread, because `ccms-server demo` waits for SIGINT/SIGTERM through
asyncio's add_signal_handler, which Windows event loops do not have. Serves until killed.

The JSON line also goes to the file named by the first argument (written whole, then
renamed), so a script can wait for it without reading a pipe.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
from pathlib import Path

from ccms_server.bootstrap import build_services
from ccms_server.demo import prepare_demo
from ccms_server.logsetup import configure_logging
from ccms_server.server import ServerThread


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="ccms-demo-"))
    demo = prepare_demo(folder, "0.0.0")
    configure_logging(demo.settings.effective_log_file)
    server = ServerThread(build_services(demo.settings)).start()
    line = {
        "url": server.url,
        "trust_anchor": str(demo.trust_anchor),
        "epoc": demo.epoc,
        "pin": demo.pin,
        "data_dir": str(folder),
    }
    text = json.dumps(line)
    print(text, flush=True)
    if len(sys.argv) > 1:
        target = Path(sys.argv[1])
        target.with_suffix(".tmp").write_text(text + "\n", encoding="utf-8")
        target.with_suffix(".tmp").replace(target)
    threading.Event().wait()


if __name__ == "__main__":
    main()
