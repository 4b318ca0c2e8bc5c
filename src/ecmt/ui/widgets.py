"""Small widgets every page uses: the step header, the error panel, a status line.

Meaning never rests on colour alone: every state has a symbol and words too; every
interactive control gets an accessible name.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ccms_protocol.reference import short_reference

from ..domain.errors import EcmtError

if TYPE_CHECKING:
    from ..config import Helpdesk


def label(text: str = "", *, bold: bool = False, wrap: bool = True, name: str = "") -> QLabel:
    """A label whose accessible name stays its text, so a screen reader reads what is on
    screen; `name` says what the text is for (its accessible description)."""
    widget = QLabel(text)
    widget.setWordWrap(wrap)
    widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if bold:
        font = widget.font()
        font.setBold(True)
        widget.setFont(font)
    if name:
        widget.setAccessibleDescription(name)
    return widget


def button(text: str, accessible: str, on_click: Callable[[], None] | None = None) -> QPushButton:
    widget = QPushButton(text)
    widget.setAccessibleName(accessible)
    if on_click is not None:
        widget.clicked.connect(on_click)
    return widget


class Mood(StrEnum):
    OK = "ok"
    WORKING = "working"
    WARNING = "warning"
    PROBLEM = "problem"
    WAITING = "waiting"


_SYMBOL = {Mood.OK: "✔", Mood.WORKING: "…", Mood.WARNING: "!", Mood.PROBLEM: "✖", Mood.WAITING: "○"}
_COLOUR = {
    Mood.OK: "#1b6e20",
    Mood.WORKING: "#444444",
    Mood.WARNING: "#8a5300",
    Mood.PROBLEM: "#b00020",
    Mood.WAITING: "#666666",
}


class StatusLine(QWidget):
    """A symbol and a sentence: "✔ No administrator rights are needed"."""

    def __init__(self, text: str = "", mood: Mood = Mood.WAITING) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.symbol = QLabel()
        self.symbol.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text = label()
        layout.addWidget(self.symbol)
        layout.addWidget(self.text, 1)
        self.set(text, mood)

    def set(self, text: str, mood: Mood) -> None:
        self.mood = mood
        self.symbol.setText(_SYMBOL[mood])
        self.symbol.setStyleSheet(f"color: {_COLOUR[mood]}; font-weight: bold;")
        self.symbol.setAccessibleName(mood.value)
        self.text.setText(text)
        self.setAccessibleName(f"{mood.value}: {text}")


class ErrorPanel(QFrame):
    """A failure on the page that met it: plain title, what to do, code and reference."""

    def __init__(self) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("errorPanel")
        self.setStyleSheet("#errorPanel { border: 2px solid #b00020; border-radius: 4px; }")
        layout = QVBoxLayout(self)
        self.title = label(bold=True, name="Error")
        self.advice = label(name="What to do next")
        self.facts = label(name="Error code and reference")
        self.retry = button("&Try again", "Try again")
        layout.addWidget(self.title)
        layout.addWidget(self.advice)
        layout.addWidget(self.facts)
        row = QHBoxLayout()
        row.addWidget(self.retry)
        row.addStretch(1)
        layout.addLayout(row)
        self.error: EcmtError | None = None
        self.hide()

    def show_error(self, error: EcmtError, extra: str = "", can_retry: bool = True) -> None:
        self.error = error
        self.title.setText(f"✖ {error.title}")
        advice = error.advice
        if error.attempts_remaining is not None:
            advice += f" You have {error.attempts_remaining} tries left before the account locks."
        self.advice.setText(f"{extra} {advice}".strip())
        facts = f"Error code: {error.code.value}"
        if error.reference:  # the full id is in the log and in "Copy support details"
            facts += f"   Reference: {short_reference(error.reference)}"
        self.facts.setText(facts)
        self.retry.setVisible(can_retry)
        self.show()

    def clear(self) -> None:
        self.error = None
        self.hide()


class Checklist(QWidget):
    """Named items, each a StatusLine (symbol and words), in a fixed order: the renewal's
    stages, the password rules. Keys are stable so pages and tests can address items."""

    def __init__(self, items: list[tuple[str, str]], name: str) -> None:
        super().__init__()
        self.setAccessibleName(name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.lines: dict[str, StatusLine] = {}
        for key, text in items:
            self.lines[key] = StatusLine(text)
            layout.addWidget(self.lines[key])

    def set(self, key: str, text: str, mood: Mood) -> None:
        self.lines[key].set(text, mood)

    def mood(self, key: str) -> Mood:
        return self.lines[key].mood


def scrolling(name: str) -> tuple[QWidget, QVBoxLayout]:
    """A frameless scroll area and the layout to fill. At 200% text or on a small screen
    the content scrolls instead of being squeezed until widgets overlap."""
    from PySide6.QtWidgets import QScrollArea  # appended later: the top imports stay as they are

    inner = QWidget()
    layout = QVBoxLayout(inner)
    layout.setContentsMargins(0, 0, 0, 0)
    area = QScrollArea()
    area.setAccessibleName(name)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(inner)
    return area, layout


def take_spare_height(outer: object, inner: object) -> None:
    """Give `inner` (a page's body holding a `scrolling()` area) all the spare height of
    `outer` (the page's layout). A QScrollArea's size hint is cached from its first
    content, so without this a stretch beside it leaves it a sliver once content grows."""
    from PySide6.QtWidgets import QBoxLayout

    if isinstance(outer, QBoxLayout):
        for index in range(outer.count()):
            item = outer.itemAt(index)
            outer.setStretch(index, 1 if item is not None and item.layout() is inner else 0)


# A button beside a wrapped label: stays its own size at the top, however tall the text.
TOP_LEFT = Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft


def info_box(
    parent: QWidget, title: str, text: str, informative: str, detail: str = ""
) -> QMessageBox:
    """An information message shown non-modally (show, not exec): the window behind it
    keeps working. The caller keeps the returned box alive."""
    box = QMessageBox(parent)
    box.setWindowTitle(title)
    box.setIcon(QMessageBox.Icon.Information)
    box.setText(text)
    box.setInformativeText(informative)
    if detail:
        box.setDetailedText(detail)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.setWindowModality(Qt.WindowModality.NonModal)  # QMessageBox defaults to modal
    box.show()
    box.raise_()
    box.activateWindow()  # Escape and Enter then close the box, not the window behind
    return box


def demo_letter(note: str) -> QFrame:
    """The clearly labelled demo PIN letter panel (demo mode only): heading and text at
    the top, as on paper; spare height goes below them."""
    panel = QFrame()
    panel.setObjectName("demoLetter")
    panel.setStyleSheet("#demoLetter { background: #fff8d6; border: 1px dashed #8a5300; }")
    panel.setAccessibleName("Demo PIN letter")
    layout = QVBoxLayout(panel)
    layout.addWidget(label("DEMO PIN LETTER", bold=True, name="Demo PIN letter heading"))
    text = label(note, name="Demo PIN letter text")
    text.setObjectName("demoLetterText")
    layout.addWidget(text)
    layout.addStretch(1)
    return panel


NBSP = "\u00a0"


def helpdesk_lines(helpdesks: list[Helpdesk]) -> list[str]:
    """One line a helpdesk, its number kept whole (non-breaking spaces): a number split
    over two lines is misdialled."""
    lines = []
    for desk in helpdesks:
        serves = f" ({desk.serves})" if desk.serves else ""
        lines.append(f"{desk.name}{serves}: {desk.phone.replace(' ', NBSP)}")
    return lines


def fit_to_screen(window: QWidget, preferred: QSize) -> None:
    """Open at `preferred` where it fits, else at what the screen has room for (less
    a window frame), centred. Pages scroll, so every button stays on screen even at
    200% on a small screen."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(preferred)
        return
    room = screen.availableGeometry()
    frame = QSize(16, 48)  # a window manager's borders and title bar
    width = min(preferred.width(), room.width() - frame.width())
    height = min(preferred.height(), room.height() - frame.height())
    window.resize(max(width, 1), max(height, 1))
    left = room.x() + max(0, (room.width() - window.width()) // 2)
    top = room.y() + max(0, (room.height() - window.height() - frame.height()) // 2)
    window.move(left, top)


def choose_folder(parent: QWidget, field: QLineEdit) -> QFileDialog:
    """A folder chooser that writes into `field`; non-modal (a signal, no nested event
    loop). It starts in the folder typed, or the nearest one above it that exists: a
    dialog opened on a missing folder greys out its Choose button. The caller keeps the
    returned dialog alive."""
    start = nearest_existing_folder(Path(field.text().strip() or Path.home()))
    dialog = QFileDialog(parent, "Choose a folder for the backup", str(start))
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    dialog.fileSelected.connect(field.setText)
    dialog.open()
    return dialog


class PathLabel(QLabel):
    """A path or other long name on one line, shortened in the middle to fit
    ("/home/…/backups/ePractitioner-8123456.p12") instead of wrapping mid-name; the
    whole text is its tooltip and what a screen reader reads."""

    def __init__(self, text: str = "", *, name: str = "") -> None:
        super().__init__()
        self._full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        if name:
            self.setAccessibleDescription(name)
        self.set_path(text)

    def set_path(self, text: object) -> None:
        self._full = str(text)
        self.setToolTip(self._full)
        self.setAccessibleName(self._full)
        self._elide()

    @property
    def full_text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:
        """At most a short line's width: it is shortened to fit, never a reason to widen
        the window."""
        hint = super().sizeHint()
        metrics = self.fontMetrics()
        widest = metrics.horizontalAdvance("M" * 12)
        return QSize(min(metrics.horizontalAdvance(self._full) + 4, widest), hint.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(
            self.fontMetrics().horizontalAdvance("M…M"), super().minimumSizeHint().height()
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.width(), 1)
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, width)
        super().setText(shown)


class FirstPaint(QObject):
    """Runs callbacks once `widget` has been painted for the first time (or after
    `fallback_ms`, should no paint ever come), so work that can wait does not delay the
    first picture of a window."""

    def __init__(self, widget: QWidget, fallback_ms: int = 1000) -> None:
        super().__init__(widget)
        self.done = False
        self._waiting: list[Callable[[], None]] = []
        widget.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self, self._release)  # dropped if the window goes

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not getattr(self, "done", True):
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self, self._release)  # after this paint has finished
        return False

    def then(self, callback: Callable[[], None]) -> None:
        if self.done:
            callback()
        else:
            self._waiting.append(callback)

    def _release(self) -> None:
        if getattr(self, "done", True):  # done, or a wrapper Qt outlived (window closed)
            return
        self.done = True
        widget = self.parent()
        if widget is not None:  # the fallback came first: stop watching
            widget.removeEventFilter(self)
        waiting, self._waiting = self._waiting, []
        for callback in waiting:
            callback()


def nearest_existing_folder(folder: Path) -> Path:
    """`folder`, or the closest folder above it that exists (else the home folder)."""
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            return candidate
    return Path.home()
