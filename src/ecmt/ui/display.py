"""Whether a window can open here, checked before Qt is loaded.

Qt aborts the whole process (status 134, a plugin message meant for developers) when it
finds no display or lacks a library for it. Checking first lets `ecmt` say in one plain
sentence what is missing, and that the headless commands still work.
"""

from __future__ import annotations

import ctypes
import os
import socket
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

HEADLESS = "`ecmt status` and `ecmt renew` work without one."
# the X11 libraries Qt's xcb plugin loads, and the Debian packages that hold them
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
}


def loadable(soname: str) -> bool:
    """Whether the dynamic linker finds this library (as Qt will, a moment later)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def display_problem(
    environ: Mapping[str, str] = os.environ,
    platform: str = sys.platform,
    can_load: Callable[[str], bool] = loadable,
) -> str | None:
    """A sentence saying why no window can open, or None when one can (or when only Qt
    can tell: other platforms, and Qt platforms other than X11 and Wayland)."""
    if not platform.startswith("linux"):
        return None
    chosen = environ.get("QT_QPA_PLATFORM", "").split(":")[0]
    if chosen not in ("", "xcb", "wayland"):
        return None  # offscreen, vnc, eglfs: the user asked for it
    wayland = environ.get("WAYLAND_DISPLAY", "")
    display = environ.get("DISPLAY", "")
    if not display and not wayland:
        return (
            "ecmt needs a desktop session to show its window, and none was found "
            f"(DISPLAY is not set). {HEADLESS}"
        )
    if display and chosen != "wayland" and not _x_server_listening(display):
        return (
            f"ecmt cannot reach the desktop session's display {display}. Start ecmt from "
            f"the desktop, or check DISPLAY. {HEADLESS}"
        )
    if chosen == "xcb" or not wayland:
        missing = sorted(package for lib, package in XCB_LIBRARIES.items() if not can_load(lib))
        if missing:
            return (
                "ecmt cannot open its window: this computer lacks libraries the window "
                f"needs. Install them (Debian and Ubuntu: apt install {' '.join(missing)}), "
                f"then start ecmt again. {HEADLESS}"
            )
    return None


def _x_server_listening(display: str) -> bool:
    """For a local display (":0", ":1.0"), whether its X server answers on its socket
    (the file, or Linux's abstract socket of the same name); other forms (host:0, a TCP
    or SSH-forwarded display) are left to Qt."""
    host, _, rest = display.partition(":")
    number = rest.split(".")[0]
    if host or not number.isdigit():
        return True
    path = f"/tmp/.X11-unix/X{number}"  # noqa: S108 - where X servers put their sockets
    for address in (path, "\0" + path):
        if address == path and not Path(path).exists():
            continue
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(2)
            try:
                probe.connect(address)
            except OSError:
                continue
            return True
    return False
