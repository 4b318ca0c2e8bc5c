"""A reminder through Qt's tray icon: Windows, and desktops without `notify-send`.

`ecmt remind run` uses it where the platform has no notifier of its own that can open the
program on a click. It shows the message for up to `SHOW_SECONDS`, opens the program when
the message is clicked, then ends.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle, QSystemTrayIcon

from ..services.reminders import Reminder

SHOW_SECONDS = 10 * 60


class TrayNotifier:
    def __init__(self, on_click: Callable[[], None], show_seconds: int = SHOW_SECONDS) -> None:
        self._on_click = on_click
        self._show_ms = show_seconds * 1000

    def notify(self, reminder: Reminder) -> bool:
        app = QApplication.instance() or QApplication([])
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return False
        style = app.style() if isinstance(app, QApplication) else None
        icon = (
            style.standardIcon(
                QStyle.StandardPixmap.SP_MessageBoxWarning
                if reminder.urgent
                else QStyle.StandardPixmap.SP_MessageBoxInformation
            )
            if style is not None
            else QIcon()
        )
        tray = QSystemTrayIcon(icon)
        tray.setToolTip(reminder.title)
        clicked: list[bool] = []

        def click() -> None:
            if not clicked:
                clicked.append(True)
                self._on_click()
            app.quit()

        tray.messageClicked.connect(click)
        tray.activated.connect(lambda _reason: click())
        tray.show()
        kind = (
            QSystemTrayIcon.MessageIcon.Warning
            if reminder.urgent
            else QSystemTrayIcon.MessageIcon.Information
        )
        tray.showMessage(reminder.title, reminder.text, kind, self._show_ms)
        QTimer.singleShot(self._show_ms, app.quit)
        app.exec()
        tray.hide()
        return True
