"""JSON log lines: fixed keys, every extra, exceptions, and the request/comment context."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest

from shared import logs


@pytest.fixture
def capture():
    """Root logging configured as a process would be, restored afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = io.StringIO()
    logs.configure_logging("worker", "DEBUG", stream=stream)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)
    logs.REQUEST_ID.set(None)
    logs.COMMENT_ID.set(None)


def test_one_json_object_per_line_with_fixed_keys_and_extras(capture):
    logging.getLogger("shared.moderation.pipeline").info(
        "comment decided",
        extra={
            "comment_id": "c1",
            "score": 1.5,
            "reasons": ("a", "b"),
            "at": datetime(2025, 5, 16, tzinfo=UTC),
            "obj": object(),
        },
    )
    [line] = capture()
    assert line["level"] == "INFO" and line["service"] == "worker"
    assert line["logger"] == "shared.moderation.pipeline" and line["message"] == "comment decided"
    assert line["time"].endswith("Z")
    assert line["comment_id"] == "c1" and line["score"] == 1.5 and line["reasons"] == ["a", "b"]
    assert line["at"].startswith("2025-05-16T00:00:00")
    assert line["obj"].startswith("<object object")  # unserialisable: kept as text, line not lost


def test_exception_is_one_string_field(capture):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("x").exception("failed")
    [line] = capture()
    assert line["level"] == "ERROR"
    assert "ValueError: boom" in line["exception"] and "Traceback" in line["exception"]


def test_extra_cannot_overwrite_fixed_keys(capture):
    logging.getLogger("x").warning("hello", extra={"service": "spoofed", "level": "nope"})
    [line] = capture()
    assert line["service"] == "worker" and line["level"] == "WARNING"
    assert line["extra_service"] == "spoofed"


def test_context_ids_are_added_unless_given(capture):
    logs.REQUEST_ID.set("req-1")
    logs.COMMENT_ID.set("c-9")
    logging.getLogger("x").info("in a task")
    logging.getLogger("x").info("explicit", extra={"request_id": "req-2"})
    first, second = capture()
    assert first["request_id"] == "req-1" and first["comment_id"] == "c-9"
    assert second["request_id"] == "req-2"


def test_configure_twice_does_not_duplicate_lines(capture):
    stream = io.StringIO()
    logs.configure_logging("api", "INFO", stream=stream)
    logs.configure_logging("api", "INFO", stream=stream)
    logging.getLogger("x").info("once")
    logging.getLogger("x").debug("filtered by level")
    assert len(stream.getvalue().splitlines()) == 1
    assert json.loads(stream.getvalue())["service"] == "api"
