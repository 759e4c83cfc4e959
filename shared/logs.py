"""Structured logs: one JSON object per line, for every process (api, dashboard, worker, beat).

Log aggregators (Loki, CloudWatch, ``jq``) read JSON without a parser per format, and every
``extra={...}`` field the code already passes becomes a searchable key. Two context
variables follow a comment across processes: the API sets :data:`REQUEST_ID` per request,
:class:`shared.taskqueue.TaskQueue` sends it along as a Celery message header, and the worker
sets it again (with :data:`COMMENT_ID`) before each task, so ``request_id`` joins the
HTTP request's lines to the worker's lines and decision.

Entrypoints call :func:`configure_logging` (gunicorn's config, Celery's ``setup_logging``
signal); nothing here runs at import.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

REQUEST_ID: ContextVar[str | None] = ContextVar("parley_request_id", default=None)
COMMENT_ID: ContextVar[str | None] = ContextVar("parley_comment_id", default=None)
# The Celery message header carrying the request id from the API to the worker.
REQUEST_ID_HEADER = "parley_request_id"

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}


def forget_request_id(response):
    """After-request hook: a pooled thread must not carry a finished request's id into
    its next log lines or queued tasks."""
    REQUEST_ID.set(None)
    return response


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, service, logger, message, extras.

    Extras never overwrite the fixed keys (a clash is kept under ``extra_<key>``), and a
    value that is not JSON-serialisable is written as its ``str`` rather than losing the
    line.
    """

    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_"):
                continue
            entry[f"extra_{key}" if key in entry else key] = value
        for key, var in (("request_id", REQUEST_ID), ("comment_id", COMMENT_ID)):
            if entry.get(key) is None and var.get() is not None:
                entry[key] = var.get()
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=_jsonable, ensure_ascii=False)


def configure_logging(service: str, level: str | int = "INFO", stream=None) -> logging.Handler:
    """Send every log record of this process to ``stream`` (stderr) as JSON lines.

    Replaces the root logger's handlers, so calling it again (a gunicorn reload) does not
    stack duplicates. Returns the handler (tests read from it).
    """
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
        if not isinstance(level, int):
            level = logging.INFO
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Chatty libraries: their INFO lines are per-request noise.
    for name in ("httpx", "httpcore", "urllib3"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return handler
