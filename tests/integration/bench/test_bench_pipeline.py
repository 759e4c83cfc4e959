"""The pipeline benchmark's senders: connected before the schedule starts, errors raised."""

from __future__ import annotations

import http.server
import shutil
import threading

import httpx
import pytest

from bench.pipeline import send_in_turn


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server name
        with self.server.lock:  # one handler thread per connection
            self.server.health_checks += 1
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    httpd.health_checks = 0
    httpd.lock = threading.Lock()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(httpd) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}"


def test_every_sender_is_connected_before_the_first_number(server):
    seen_at_ready = []
    sent = []
    lock = threading.Lock()

    def send(client, rng, n):
        assert seen_at_ready, "a number was sent before every sender was ready"
        with lock:
            sent.append(n)

    send_in_turn(
        _url(server), 25, 4, send, on_ready=lambda: seen_at_ready.append(server.health_checks)
    )

    assert seen_at_ready == [4]  # called once, after all four senders had connected
    assert sorted(sent) == list(range(25))  # each number exactly once


def test_a_failing_send_stops_the_others_and_is_raised(server):
    sent = []

    def send(client, rng, n):
        if n == 3:
            raise AssertionError("the server refused comment 3")
        sent.append(n)

    with pytest.raises(AssertionError, match="comment 3"):
        send_in_turn(_url(server), 1000, 4, send)
    assert len(sent) < 100  # the others stopped instead of sending the remaining numbers


def test_an_unreachable_server_is_raised_not_waited_for(server):
    url = _url(server)
    server.shutdown()
    server.server_close()

    with pytest.raises(httpx.ConnectError):
        send_in_turn(url, 10, 4, lambda *_: None)


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed (make test does)")
def test_the_bare_flask_rate_is_measured_each_time_it_is_asked(tmp_path):
    from bench.pipeline import BareFlask
    from tests.support.procs import base_env
    from tests.support.stack import Running

    with Running(tmp_path) as running:
        bare = BareFlask(running, base_env(), tmp_path, "bare")
        bare.measure()
        bare.measure()
    assert len(bare.rates) == 2 and all(rate > 0 for rate in bare.rates)
