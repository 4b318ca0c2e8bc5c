"""Where the settings files are, and the few values the desktop app needs before its first
window: read with tomllib alone.

The full settings (config.py) are validated with pydantic-settings, which costs more time
than showing the window itself; the window only needs to know where its state is kept
and which store is meant, so this reads just that, the same files in the same order, and
leaves every check (and every error message) to the full reading that follows.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .machine_registry import registry_settings

APP = "ecmt"


def config_files(extra: Path | None = None) -> list[Path]:
    """Lowest priority first: packaged defaults, machine-wide, per-user, then --config."""
    # beside this module (also in a frozen build); importlib.resources would cost the
    # first window tempfile, zipfile and more
    packaged = Path(__file__).with_name("resources") / "defaults.toml"
    files = [
        packaged,
        Path(platformdirs.site_config_dir(APP)) / "config.toml",
        Path(platformdirs.user_config_dir(APP)) / "config.toml",
    ]
    if extra is not None:
        files.append(extra)
    return files


@dataclass(frozen=True)
class StartValues:
    state_dir: Path
    store: str  # as written (a list is joined with ","), "" when none is set


def start_values(
    config: Path | None = None,
    store_flag: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> StartValues:
    """`state_dir` and `store` by the same layering as the full settings; anything that
    cannot be read is skipped here (the full reading reports it)."""
    values: dict[str, object] = {}
    machine = registry_settings()  # Windows: the MSI's values, just above the packaged file
    for index, path in enumerate(config_files(config)):
        if index == 1:
            values.update({k: machine[k] for k in ("state_dir", "store") if k in machine})
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError):
            continue
        values.update({k: data[k] for k in ("state_dir", "store") if k in data})
    for key in ("state_dir", "store"):
        if f"ECMT_{key.upper()}" in environ:
            values[key] = environ[f"ECMT_{key.upper()}"]
    if store_flag:
        values["store"] = store_flag
    state = values.get("state_dir")
    store = values.get("store") or ""
    return StartValues(
        Path(str(state)).expanduser() if state else Path(platformdirs.user_state_dir(APP)),
        ",".join(str(s) for s in store) if isinstance(store, list) else str(store),
    )
