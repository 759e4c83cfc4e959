"""shared.broker: the worker's broker connection survives Redis dying under it.

The exact sequence Celery's consumer runs when it loses Redis
(``Consumer.on_connection_error_after_connected``: ``collect()``, then ``close()`` under
``ignore_errors``) on a connection shaped like the worker's: a task channel holding an
unacknowledged message with a BRPOP in flight, and a control channel on an auto-delete
fanout queue (celery's pidbox). kombu 5.7's own transport turns it into the AttributeError
that stopped the worker; ours into connection errors, which the consumer recovers from.
"""

from __future__ import annotations

import pytest
from kombu import Connection, Consumer, Exchange, Queue
from kombu.common import ignore_errors

from shared import broker
from tests.support.procs import start_redis

CHECKS = Queue("checks", Exchange(""), routing_key="checks")
PIDBOX = Queue("w@host.pidbox", Exchange("pidbox", type="fanout"), auto_delete=True)


@pytest.fixture
def redis_proc(tmp_path):
    proc, url = start_redis(tmp_path)
    yield proc, url
    proc.stop()


def worker_shaped(url: str, transport: str) -> tuple[Connection, Consumer]:
    """A connection with one unacknowledged message in hand and a BRPOP in flight."""
    conn = Connection(url, transport=transport, transport_options={"socket_timeout": 2})
    with conn.Producer() as producer:
        producer.publish({"id": "c1"}, routing_key="checks", declare=[CHECKS])
    received = []
    tasks = conn.Consumer(CHECKS, callbacks=[lambda body, message: received.append(message)])
    tasks.consume()
    control = Consumer(conn.channel(), PIDBOX, callbacks=[lambda *_: None], no_ack=True)
    control.consume()
    for _ in range(50):
        try:
            conn.drain_events(timeout=0.1)
        except TimeoutError:
            pass
        if received and tasks.channel._in_poll:
            break
    assert received and tasks.channel._in_poll, "no message in hand with a BRPOP in flight"
    return conn, tasks


def lose_broker(conn: Connection) -> None:
    """What Celery's consumer does on a lost broker connection."""
    try:
        conn.collect(socket_timeout=5)
    except Exception:  # noqa: BLE001 - celery ignores every error here too
        pass
    ignore_errors(conn, conn.close)


def test_losing_redis_mid_poll_closes_cleanly(redis_proc):
    proc, url = redis_proc
    conn, tasks = worker_shaped(url, broker.TRANSPORT)
    proc.kill9()
    lose_broker(conn)  # raised AttributeError before shared.broker
    assert tasks.channel.closed


def test_kombus_own_transport_still_fails_this_way(redis_proc):
    """The cause, pinned: when kombu fixes it, shared.broker's guard can go."""
    proc, url = redis_proc
    conn, _ = worker_shaped(url, "redis")
    proc.kill9()
    with pytest.raises(AttributeError, match="hostname"):
        lose_broker(conn)


def test_a_released_channel_raises_a_connection_error(redis_proc):
    """Late use of a channel after ``collect()``, e.g. restoring its unacked messages."""
    _, url = redis_proc
    conn = Connection(url, transport=broker.TRANSPORT)
    channel = conn.channel()
    conn.collect()
    with pytest.raises(conn.connection_errors), channel.conn_or_acquire():
        pass
