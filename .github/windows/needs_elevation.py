"""What R-1 sees, as JSON: whether the Windows stores need elevation for this process."""

from __future__ import annotations

import json
import sys

from ecmt.certstore import WindowsStore
from ecmt.services.environment import is_elevated

machine, user = WindowsStore("machine"), WindowsStore("user")
json.dump(
    {
        "elevated": is_elevated(),
        "machine_needs_elevation": machine.needs_elevation(),
        "user_needs_elevation": user.needs_elevation(),
        "machine_readable": machine.available(),
    },
    sys.stdout,
)
