"""`python -m ecmt.ui.screenshots` walks the whole wizard against the demo service and
leaves one readable PNG per step and state (the user guide's pictures)."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtGui import QImage

from ecmt.ui.screenshots import SHOTS


def test_every_screenshot_is_written_and_is_a_real_picture(tmp_path):
    out = tmp_path / "shots"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    done = subprocess.run(
        [sys.executable, "-m", "ecmt.ui.screenshots", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    names = {path.stem for path in out.glob("*.png")}
    assert names == set(SHOTS)
    for name in SHOTS:
        path = out / f"{name}.png"
        image = QImage(str(path))
        assert not image.isNull(), name
        assert 400 <= image.width() <= 2000, name  # a window or a dialog, not a sliver
        assert 250 <= image.height() <= 2000, name
        assert 5_000 < path.stat().st_size < 400_000, name
        assert str(path) in done.stdout


def test_a_missing_out_dir_argument_is_a_usage_error():
    done = subprocess.run(
        [sys.executable, "-m", "ecmt.ui.screenshots"],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "out_dir" in done.stderr


def test_a_step_that_cannot_be_reached_fails_with_its_name(tmp_path):
    """An EPOC pattern the demo account cannot match: the logon step never gets its
    wrong-PIN message, so the walk stops there, says so, and keeps a picture of it."""
    done = subprocess.run(
        [sys.executable, "-m", "ecmt.ui.screenshots", str(tmp_path)],
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "ECMT_EPOC_PATTERN": "^x$",
        },
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 1
    assert "could not reach step r3-logon-wrong-pin" in done.stderr
    assert (tmp_path / "failed-r3-logon-wrong-pin.png").is_file()
    assert not (tmp_path / "r4-overview.png").exists()
