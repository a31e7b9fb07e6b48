"""Structured logging with secrets removed.

Every record becomes one JSON object per line (or one plain line with
``format: console``) carrying the ``extra=`` fields given at the call site.
Before a line is written, credentials in URLs (``rtsp://user:pass@host``),
bearer tokens and every secret value from hub.yaml are replaced with
``***``: this is the last line of defence, applied to messages, fields and
tracebacks alike.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s:]+(:[^/@\s]*)?@")
_TOKENS = re.compile(r"\b(pt_[0-9a-f]{16}_)[A-Za-z0-9_-]+|(Bearer\s+)[A-Za-z0-9._~+/=-]+")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName", "color_message"}


class Redactor:
    """Removes credentials and known secret values from text."""

    def __init__(self) -> None:
        self._secrets: list[str] = []

    def add(self, *values: str) -> None:
        for v in values:
            if v and len(v) >= 4 and v not in self._secrets:
                self._secrets.append(v)
        self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        text = _URL_CREDENTIALS.sub(lambda m: m.group("scheme") + "***@", text)
        text = _TOKENS.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


redactor = Redactor()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return redactor(json.dumps(out, default=str, ensure_ascii=False))


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(
            f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")
        )
        line = f"{datetime.fromtimestamp(record.created):%H:%M:%S} {record.levelname:<7} {record.name}: " \
               f"{record.getMessage()}" + (f" [{fields}]" if fields else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redactor(line)


def configure(level: str = "info", fmt: str = "json") -> None:
    """Send every logger's records to stderr through one formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    logging.getLogger("uvicorn.access").setLevel(max(logging.WARNING, root.level))
    for name in ("apscheduler", "alembic"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
