"""Log lines as text (default) or one JSON object a line for log collectors.

Every line carries the id of the request it was written for (core/trace.py). Callers never
pass tokens, cookies, sign-in links or identity claims to a logger; the access line names
the route's rule (`/extend/<key>`), never the raw path or query that may hold a secret.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from loadzone.core import trace

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MARK = "_loadzone_handler"
# LogRecord's own attributes; anything else on a record came in through `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request id (None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = trace.request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or trace.request_id(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The plain format, with ` [request id]` after the message of lines written for a request
    (before any traceback)."""

    def __init__(self):
        super().__init__(TEXT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        request_id = getattr(record, "request_id", None)
        return f"{text} [{request_id}]" if request_id else text


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure(log_format: str) -> None:
    """Send the root logger's records to standard error in `log_format` (text | json).

    Leaves logging alone when someone else set it up first (pytest, an embedding app)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, _MARK, False)), None)
    if handler is None:
        if root.handlers:
            return
        handler = logging.StreamHandler()
        setattr(handler, _MARK, True)
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    handler.setFormatter(formatter(log_format))
