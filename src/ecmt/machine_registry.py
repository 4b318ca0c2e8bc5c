"""Windows: the settings the MSI writes from its deployment properties.

`msiexec /i ecmt.msi SERVER_URL=… STORE=… TRUST_ANCHOR=… KEY_READERS=…` stores each one as
a string value under HKLM\\SOFTWARE\\ecmt\\Settings (wixl cannot write a file from
properties, and values in the registry are what Group Policy deploys anyway). They form
the machine-wide layer just above the packaged defaults and below the machine-wide file.

A value name is a setting's name. An empty value is "not set" (the MSI writes one for
each property left out). A list setting is one REG_MULTI_SZ, or one string with its items
separated by ";".
"""

from __future__ import annotations

import logging
import sys
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

KEY = r"SOFTWARE\ecmt\Settings"
LIST_SETTINGS = frozenset({"trust_anchors", "key_readers", "notices"})
REG_SZ, REG_EXPAND_SZ, REG_DWORD, REG_MULTI_SZ = 1, 2, 4, 7


def _value(name: str, data: Any, kind: int) -> Any:
    if kind == REG_MULTI_SZ:
        items = [str(item).strip() for item in data]
    elif kind in (REG_SZ, REG_EXPAND_SZ) and name in LIST_SETTINGS:
        items = [item.strip() for item in str(data).split(";")]
    else:
        return data.strip() if isinstance(data, str) else data
    return [item for item in items if item]


def registry_settings(winreg: ModuleType | None = None) -> dict[str, Any]:
    """The values under HKLM\\SOFTWARE\\ecmt\\Settings (64-bit view); {} off Windows or when
    the key is absent. Unknown names pass through, so a typing mistake gets the same
    ECMT-CONFIG-INVALID as in a file."""
    if winreg is None:
        if sys.platform != "win32":
            return {}
        import winreg as _winreg

        winreg = _winreg
    access = winreg.KEY_READ | winreg.KEY_WOW64_64KEY
    try:
        key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, KEY, 0, access)
    except FileNotFoundError:
        return {}
    except OSError as exc:  # unreadable: the files still apply; say so in the log
        log.warning("machine settings in HKLM\\%s not readable: %s", KEY, exc)
        return {}
    values: dict[str, Any] = {}
    with key:
        index = 0
        while True:
            try:
                name, data, kind = winreg.EnumValue(key, index)
            except OSError:  # ERROR_NO_MORE_ITEMS
                break
            index += 1
            value = _value(name, data, kind)
            if value not in ("", [], None):
                values[name] = value
    return values
