"""Operations data: ``/metrics``, the ops page's hourly series and worker heartbeats.

One module per concern; importers name the one they need (nothing is re-exported here):

- :mod:`shared.ops.metrics`: the counters and histograms of docs/contract.md §7, incremented
  wherever the work happens.
- :mod:`shared.ops.collector`: the ``/metrics`` exposition (prometheus-client's
  multiprocess mode, host-qualified process ids) and the gauges computed when scraped
  (queue depths, comments by status, oldest unchecked age).
- :mod:`shared.ops.series`: the ops page's per-minute series, kept in Redis.
- :mod:`shared.ops.heartbeat`: worker heartbeats, read by the health check, the ops page
  and the ``parley_workers_alive`` gauge.
"""
