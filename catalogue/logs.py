"""Structured logs: ``event key=value …`` lines that say which source and record."""

from __future__ import annotations

import logging
import sys

_STANDARD = set(vars(logging.makeLogRecord({})))


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD and k != "message"}
        base = f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} {record.levelname.lower()} "
        base += f"{record.name}: {record.getMessage()}"
        for key, value in extras.items():
            text = str(value)
            base += f" {key}={text!r}" if (" " in text or not text) else f" {key}={text}"
        if record.exc_info:
            base += "\n" + self.formatException(record.exc_info)
        return base


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger("catalogue")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    for name in ("harvesters",):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
