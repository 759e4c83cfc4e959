"""Kombu's Redis transport with its close path guarded, so a Redis restart cannot stop
the worker.

The failure (kombu 5.7.0, the latest release): kombu's ``Channel.close`` first reads the
reply of a BRPOP in flight, so that a message Redis already popped is not lost (celery/kombu
pull request 1733, "Prevent redis task loss when closing connection while in poll"). When
Redis has just died, that read raises a connection error *before* the channel is marked
closed. Celery's consumer, having lost the broker, calls ``Connection.collect()``, which
swallows the error and then releases the transport (``transport.client = None``); next it
calls ``Connection.close()``, which closes the half-closed channel a second time. Now its
QoS restores the unacknowledged messages through a new connection pool built from
``transport.client.hostname``: ``AttributeError: 'NoneType' object has no attribute
'hostname'``. That is not a connection error, so celery's ``ignore_errors`` lets it through
and the worker exits with "Unrecoverable error". The same AttributeError from the same
released transport is celery/kombu issue 582 ("Error on restarting Gossip") and issue 970
("Error on Restarting Celery").

Two guards, each in kombu's own terms:

1. :meth:`Channel.close` reads the BRPOP reply itself and, if the connection is gone, goes
   on closing: the reply is lost either way, and the channel ends up closed, so the second
   close does nothing.
2. A channel whose transport was released raises a connection error, which every caller
   already treats as "the broker is gone", instead of the AttributeError.

Unacknowledged messages that cannot be restored while Redis is down stay in Redis's
unacked set (redelivered after the visibility timeout) if Redis kept its data; if it did
not, the sweeper re-queues every comment whose check lease expired.
"""

from __future__ import annotations

import logging
from queue import Empty

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

log = logging.getLogger(__name__)

# Celery's ``broker_transport`` setting: kombu resolves "module:Class" itself.
TRANSPORT = f"{__name__}:Transport"


class Channel(kombu_redis.Channel):
    """kombu's Redis channel; see the module docstring for what differs and why."""

    def close(self):
        # kombu reads the BRPOP reply in flight first (kombu pull request 1733) and, if
        # Redis is gone, raises before the channel is closed; read it here instead and go
        # on closing, so that a second close is a no-op (kombu issues 582 and 970 show
        # what the second close does to a released transport).
        if self._in_poll:
            try:
                self._brpop_read()
            except Empty:
                pass
            except self.connection_errors as exc:
                log.info("broker gone while closing a channel in poll", extra={"error": str(exc)})
        super().close()

    def _connparams(self, asynchronous=False):
        # Once ``Connection.collect()`` released the transport, any late use of this
        # channel (restoring unacked messages, deleting a fanout queue) would read
        # ``None.hostname``; make it the connection error its callers already expect.
        conninfo = self.connection.client if self.connection is not None else None
        if conninfo is None:
            raise RedisConnectionError("the broker connection was already released")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with :class:`Channel`."""

    Channel = Channel
