"""Signed webhooks (docs/contract.md §4): endpoints, the fan-out of relayed events, the
deliveries with their retries, and replays.

- :mod:`.addresses`: which URLs may be called (no loopback, link-local or private address
  unless ``PARLEY_WEBHOOK_ALLOW_PRIVATE=1``), checked at registration and again at every
  connection.
- :mod:`.signing`: ``X-Parley-Signature``.
- :mod:`.fanout`: each event relayed from the outbox becomes one delivery row per matching
  endpoint, in the relay's own transaction (shared.events).
- :mod:`.delivery`: one attempt (claim, POST, record), the order per comment, backoff,
  disabling, and the periodic tick that re-queues what is due.
- :mod:`.endpoints`: what the admin API and the dashboard do (register, list, delete,
  deliveries, replay).
"""
