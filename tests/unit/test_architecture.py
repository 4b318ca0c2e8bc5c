"""Dependency direction: the server never imports the client; the wire module stays small."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.add("." * node.level + (node.module or ""))
            elif node.module:
                names.add(node.module)
    return names


def test_server_never_imports_the_desktop_client():
    for path in (SRC / "ccms_server").rglob("*.py"):
        assert not any(n == "ecmt" or n.startswith("ecmt.") for n in _imports(path)), path


def test_wire_module_imports_nothing_of_the_server():
    imports = _imports(SRC / "ccms_server" / "wire.py")
    assert not any(n.startswith(".") or n.startswith("ccms_server") for n in imports)
    assert not any(n.startswith(("aiohttp", "sqlalchemy")) for n in imports)


def test_qt_only_under_ui():
    for path in SRC.rglob("*.py"):
        if "ui" in path.relative_to(SRC).parts:
            continue
        assert not any(n.startswith("PySide6") for n in _imports(path)), path
