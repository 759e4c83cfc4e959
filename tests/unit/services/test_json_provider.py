"""The apps' JSON provider (services.http.FastJSON) writes what Flask's own provider
writes, falls back to it for what orjson cannot write, and reads more strictly."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import uuid

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from services.http import FastJSON


@dataclasses.dataclass
class Point:
    x: int
    label: str


SAMPLE = {
    "zeta": 1,
    "alpha": [True, None, 1.5, -3, "text", {"nested": "b", "another": "a"}],
    "when": datetime.datetime(2026, 11, 28, 12, 30, 5, tzinfo=datetime.UTC),
    "day": datetime.date(2026, 11, 28),
    "id": uuid.UUID(int=7),
    "point": Point(1, "p"),
    "price": decimal.Decimal("1.10"),
}


@pytest.fixture
def app():
    return Flask(__name__)


def bodies(app, obj):
    with app.app_context():
        return (
            FastJSON(app).response(obj).get_data(),
            DefaultJSONProvider(app).response(obj).get_data(),
        )


def test_a_response_is_byte_for_byte_flasks(app):
    fast, flask = bodies(app, SAMPLE)
    assert fast == flask
    assert b'"when":"Sat, 28 Nov 2026 12:30:05 GMT"' in fast  # Flask's HTTP dates


def test_text_outside_ascii_is_utf8_rather_than_escapes(app):
    obj = {"name": "Ayşe Yılmaz", "text": "Дякую"}
    fast, flask = bodies(app, obj)
    assert "Ayşe".encode() in fast and b"\\u" in flask and b"\\u" not in fast
    assert json.loads(fast) == json.loads(flask) == obj


def test_what_orjson_cannot_write_goes_the_standard_way(app):
    huge = {"n": 2**70}
    fast, flask = bodies(app, huge)
    assert fast == flask and json.loads(fast) == huge
    with app.app_context():
        assert FastJSON(app).dumps(huge) == DefaultJSONProvider(app).dumps(huge)
        with pytest.raises(TypeError):  # as Flask's: not serializable
            FastJSON(app).dumps({"s": {1, 2}})


def test_debug_mode_indents_as_flask_does(app):
    app.debug = True
    fast, flask = bodies(app, SAMPLE)
    assert fast == flask and b"\n  " in fast


def test_dumps_and_loads_round_trip(app):
    fast = FastJSON(app)
    text = fast.dumps({"b": 2, "a": 1, 3: "int key"})
    assert text == '{"3":"int key","a":1,"b":2}'
    assert fast.loads(text.encode()) == {"3": "int key", "a": 1, "b": 2}


@pytest.mark.parametrize("body", [b'{"a": "\\ud800"}', b'{"a": "x\\udfff"}', b"[NaN]"])
def test_reading_refuses_what_no_utf8_text_or_json_value_can_be(app, body):
    with pytest.raises(ValueError):
        FastJSON(app).loads(body)
