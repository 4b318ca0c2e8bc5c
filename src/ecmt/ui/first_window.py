"""Which window opens first, decided before the settings and the store are read.

The wizard's first page must be on screen before pydantic, cryptography and the store
are loaded; but whether to open the wizard or the overview depends on the store. The
last answer is remembered (when a renewal becomes due, for which store), so the first
window is right at once; the real answer follows off the GUI thread, and the desktop
switches windows only when nothing has been done in the first one yet.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from ccms_protocol.files import write_atomic

HINT = "first-window.json"


def overview_first(state_dir: Path, store: str, now: datetime | None = None) -> bool:
    """True when, last time, a valid certificate in this store needed no renewal yet
    and its renewal is still not due now."""
    try:
        hint = json.loads((state_dir / HINT).read_text("utf-8"))
        due = datetime.fromisoformat(hint["renewal_due"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return hint.get("store") == store and (now or datetime.now(UTC)) < due


def remember(state_dir: Path, store: str, renewal_due: datetime | None) -> None:
    """What the next start needs: when a renewal becomes due (None: it is due now)."""
    if renewal_due is None:
        (state_dir / HINT).unlink(missing_ok=True)
        return
    body = {"store": store, "renewal_due": renewal_due.isoformat()}
    write_atomic(state_dir / HINT, json.dumps(body).encode() + b"\n")
