"""Long work off the GUI thread: a QRunnable whose signals carry progress, result or error.

Workers never touch widgets; the page connects to the signals, which Qt delivers on the
GUI thread. Every failure arrives as an `EcmtError` (unforeseen ones as ECMT-UNEXPECTED,
logged with their traceback).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from ..domain.errors import EcmtError, ErrorCode

log = logging.getLogger(__name__)

Work = Callable[[Callable[[Any], None], threading.Event], Any]


class TaskSignals(QObject):
    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()


class Task(QRunnable):
    """`work(report, cancel)` on the thread pool; `report(x)` becomes `progress(x)`."""

    def __init__(self, work: Work) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.signals = TaskSignals()
        self.cancel = threading.Event()
        self._work = work
        self.ended = False  # seen on the GUI thread (set by `start`'s own slot)
        self._then: list[Callable[[], None]] = []

    def when_finished(self, callback: Callable[[], None]) -> None:
        """On the GUI thread: `callback` once the task has ended (at once if it has). A
        plain `finished.connect` made after the worker emitted would never fire."""
        if self.ended:
            callback()
        else:
            self._then.append(callback)

    def _ended(self) -> None:
        self.ended = True
        then, self._then = self._then, []
        for callback in then:
            callback()

    def run(self) -> None:
        try:
            result = self._work(self.signals.progress.emit, self.cancel)
        except EcmtError as error:
            self.signals.failed.emit(error)
        except Exception as exc:  # one place turns the unforeseen into a code and a log line
            log.exception("unexpected error in a background task")
            self.signals.failed.emit(EcmtError(ErrorCode.UNEXPECTED, type(exc).__name__))
        else:
            self.signals.succeeded.emit(result)
        finally:
            self.signals.finished.emit()


_running: set[Task] = set()


Later = Callable[[Callable[[], None]], None]


def start(
    work: Work,
    on_success: Callable[[Any], None],
    on_failure: Callable[[EcmtError], None],
    on_progress: Callable[[Any], None] | None = None,
    later: Later | None = None,
) -> Task:
    """Run `work` in the global pool; the callbacks run on the GUI thread. With `later`,
    the task exists (and can be cancelled) at once but is handed to the pool only when
    `later` calls back: the first window's work waits until that window is painted."""
    task = Task(work)
    task.signals.succeeded.connect(on_success)
    task.signals.failed.connect(on_failure)
    if on_progress is not None:
        task.signals.progress.connect(on_progress)
    _running.add(task)
    task.signals.finished.connect(task._ended)
    task.signals.finished.connect(lambda: _running.discard(task))
    if later is None:
        QThreadPool.globalInstance().start(task)
    else:
        later(lambda: QThreadPool.globalInstance().start(task))
    return task


def wait_all(timeout_ms: int = 30_000) -> bool:
    """For shutdown and tests: let running tasks finish."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
