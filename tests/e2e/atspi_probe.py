"""Read what is on screen through the accessibility tree (AT-SPI), for the end-to-end tests.

Runs under the system's Python (Debian's python3-pyatspi), not the project's virtual
environment: the tests start it once and ask it, a line at a time, for a snapshot of the
showing windows of one application. The answer is one JSON line: every showing node with
its role, name, description, text, states and position on the screen. Nothing here knows
about ecmt's widgets: it sees what a screen reader sees.

    {"app": "ecmt"}  ->  {"nodes": [{"role": ..., "name": ..., ...}, ...]}
"""

from __future__ import annotations

import json
import sys

import pyatspi  # type: ignore[import-not-found]
from gi.repository import Atspi  # type: ignore[import-not-found]

STATES = {
    "focused": pyatspi.STATE_FOCUSED,
    "enabled": pyatspi.STATE_ENABLED,
    "checked": pyatspi.STATE_CHECKED,
    "active": pyatspi.STATE_ACTIVE,
    "editable": pyatspi.STATE_EDITABLE,
    "default": pyatspi.STATE_IS_DEFAULT,
}


def text_of(node: object, role: str) -> str | None:
    if role == "password text":  # never read a secret off the screen
        return None
    try:
        text = node.queryText()  # type: ignore[attr-defined]
    except NotImplementedError:
        return None
    return text.getText(0, -1)


def box_of(node: object) -> list[int] | None:
    try:
        extents = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)  # type: ignore[attr-defined]
    except NotImplementedError:
        return None
    return [extents.x, extents.y, extents.width, extents.height]


def walk(node: object, window: str, depth: int, out: list[dict[str, object]]) -> None:
    try:
        states = node.getState()  # type: ignore[attr-defined]
        if depth > 0 and not states.contains(pyatspi.STATE_SHOWING):
            return
        role = node.getRoleName()  # type: ignore[attr-defined]
        name = node.name  # type: ignore[attr-defined]
        if depth == 1:
            window = name
        out.append(
            {
                "depth": depth,
                "window": window,
                "role": role,
                "name": name,
                "description": node.description,  # type: ignore[attr-defined]
                "text": text_of(node, role),
                "box": box_of(node),
                **{key: states.contains(value) for key, value in STATES.items()},
            }
        )
        children = [node.getChildAtIndex(i) for i in range(node.childCount)]  # type: ignore[attr-defined]
    except Exception:
        return
    for child in children:
        if child is not None:
            walk(child, window, depth + 1, out)


def snapshot(app_name: str) -> list[dict[str, object]]:
    """Read afresh every time: the accessibility library otherwise answers from a cache
    that only events keep current, and a probe that listens to no events would read a
    focus or a window state long gone."""
    desktop = pyatspi.Registry.getDesktop(0)
    out: list[dict[str, object]] = []
    for index in range(desktop.childCount):
        app = desktop.getChildAtIndex(index)
        if app is not None and app.name == app_name:
            app.set_cache_mask(Atspi.Cache.NONE)
            app.clear_cache()
            walk(app, "", 0, out)
    return out


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer: dict[str, object] = {"nodes": snapshot(request["app"])}
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
