"""The client's log: a rotated file in the platform's log folder, with a last line of
defence that masks any secret registered during this run (PIN, backup password), and one
that keeps every record on one printable line (no forged lines, no escape sequences)."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from pathlib import Path
from typing import Any

from ccms_protocol.files import private_dir

from .domain.text import clean_lines, clean_text

LOG_NAME = "ecmt.log"
MASK = "********"
LINE_LIMIT = 4000


class Redactor(logging.Filter):
    """Replaces registered secrets in every record. Code never logs them; this is a net."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def register(self, secret: str) -> None:
        if len(secret) >= 4:
            self._secrets.add(secret)
            compact = secret.replace("-", "").replace(" ", "")
            if len(compact) >= 4:
                self._secrets.add(compact)

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            for secret in self._secrets:
                message = message.replace(secret, MASK)
            record.msg, record.args = message, None
        return True


REDACTOR = Redactor()


class CleanFormatter(logging.Formatter):
    """A record is one printable line, capped; a traceback keeps its line breaks only."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return clean_text(super().formatMessage(record), LINE_LIMIT)

    def formatException(self, ei: Any) -> str:
        return clean_lines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return clean_lines(super().formatStack(stack_info))


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Each log file, including those made at rotation, is created 0600."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def configure(log_dir: Path, verbose: bool = False) -> Path:
    """Log to LOG_DIR/ecmt.log (1 MiB x 5); returns the path for support details."""
    private_dir(log_dir)
    path = log_dir / LOG_NAME
    root = logging.getLogger("ecmt")
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    handler = _PrivateRotatingFileHandler(
        path, maxBytes=1024 * 1024, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(CleanFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(REDACTOR)
    root.addHandler(handler)
    root.propagate = False
    return path
