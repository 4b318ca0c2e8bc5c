"""Whether a window can open, decided before Qt loads: one plain sentence instead of Qt's
abort (status 134) when it cannot."""

from __future__ import annotations

from pathlib import Path

from ecmt.ui.display import HEADLESS, XCB_LIBRARIES, display_problem


def every_library(_name: str) -> bool:
    return True


def test_no_display_at_all() -> None:
    problem = display_problem({}, "linux", every_library)
    assert problem is not None
    assert "needs a desktop session" in problem
    assert problem.endswith(HEADLESS)


def test_other_platforms_and_chosen_qt_platforms_are_left_to_qt() -> None:
    assert display_problem({}, "win32", every_library) is None
    assert display_problem({}, "darwin", every_library) is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", every_library) is None


def test_a_display_whose_server_does_not_answer(tmp_path: Path) -> None:
    problem = display_problem({"DISPLAY": ":231"}, "linux", every_library)
    assert problem is not None
    assert "cannot reach the desktop session's display :231" in problem


def test_missing_libraries_are_named_by_their_package() -> None:
    missing = {"libxcb-cursor.so.0", "libxcb-xkb.so.1"}
    problem = display_problem({"DISPLAY": "remote:0"}, "linux", lambda name: name not in missing)
    assert problem is not None
    assert "apt install libxcb-cursor0 libxcb-xkb1" in problem


def test_every_library_has_a_package() -> None:
    assert all(package for package in XCB_LIBRARIES.values())
    assert display_problem({"DISPLAY": "remote:0"}, "linux", every_library) is None
