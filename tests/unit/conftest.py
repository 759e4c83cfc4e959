"""Unit tests do no I/O: no sockets, no subprocesses, no forks, no databases.

Anything that needs a real Redis, PostgreSQL, SQLite file, server or process belongs in
``tests/integration`` (or ``tests/e2e``). This guard makes the rule a checked fact: each
unit test runs with those doors shut, and one that tries to open them fails and names
the door.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess

import pytest


class UnitTestDidIO(AssertionError):
    """A unit test reached for I/O; move it to tests/integration."""


def _refuse(what: str):
    def refuse(*args, **kwargs):
        raise UnitTestDidIO(f"unit tests do no I/O, and this one called {what}")

    return refuse


@pytest.fixture(autouse=True)
def no_io(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse("socket.connect_ex"))
    monkeypatch.setattr(socket.socket, "bind", _refuse("socket.bind"))
    monkeypatch.setattr(socket, "create_connection", _refuse("socket.create_connection"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("subprocess.Popen"))
    monkeypatch.setattr(os, "fork", _refuse("os.fork"))
    monkeypatch.setattr(sqlite3, "connect", _refuse("sqlite3.connect"))
