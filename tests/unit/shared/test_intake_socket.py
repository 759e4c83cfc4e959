"""The intake socket's send: one system call when the peer keeps up, a bounded wait when
its buffer is full."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from shared.intake.protocol import send


def test_send_waits_for_a_full_buffer_to_drain():
    ours, theirs = socket.socketpair()
    payload = bytes(range(256)) * 8192  # 2 MiB: far more than the socket buffers hold
    received = bytearray()

    def slow_reader():
        time.sleep(0.2)  # let the sender find the buffer full first
        while len(received) < len(payload):
            received.extend(theirs.recv(1 << 16))

    reader = threading.Thread(target=slow_reader)
    reader.start()
    try:
        send(ours, payload, timeout=10)
        reader.join(10)
        assert bytes(received) == payload
    finally:
        ours.close()
        theirs.close()


def test_send_gives_up_on_a_peer_that_never_reads():
    ours, theirs = socket.socketpair()
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            send(ours, b"x" * (8 << 20), timeout=0.3)
        assert 0.3 <= time.monotonic() - started < 5
    finally:
        ours.close()
        theirs.close()
