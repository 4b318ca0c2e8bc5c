"""Dependency direction: the server never imports the client, the client imports the server
only for demo mode, and the shared contract (ccms_protocol) imports neither."""

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


def test_the_contract_imports_neither_side():
    for path in (SRC / "ccms_protocol").rglob("*.py"):
        imports = _imports(path)
        assert not any(n.startswith(("ccms_server", "ecmt")) for n in imports), path
        assert not any(n.startswith(("aiohttp", "sqlalchemy", "PySide6")) for n in imports), path


def test_the_client_imports_the_server_only_for_demo_mode():
    """The frozen desktop app can leave the server out: only demo mode needs it."""
    allowed = {SRC / "ecmt" / "ui" / "demo.py"}
    for path in (SRC / "ecmt").rglob("*.py"):
        server = [n for n in _imports(path) if n == "ccms_server" or n.startswith("ccms_server.")]
        assert not server or path in allowed, (path, server)


def test_qt_only_under_ui():
    for path in SRC.rglob("*.py"):
        if "ui" in path.relative_to(SRC).parts:
            continue
        assert not any(n.startswith("PySide6") for n in _imports(path)), path
