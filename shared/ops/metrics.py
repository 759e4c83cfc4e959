"""Prometheus metrics of docs/contract.md §7.

Counters and histograms are recorded in whichever process does the work (api, worker,
beat). When ``PROMETHEUS_MULTIPROC_DIR`` is set (``make run`` and docker-compose set it),
prometheus-client's multiprocess mode writes them to files there and the dashboard's
``/metrics`` aggregates every process; gauges that describe shared state (queue depth,
comments by status) are computed from Redis and the database when scraped
(:mod:`shared.ops.collector`).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

COMMENTS_SUBMITTED = Counter(
    "parley_comments_submitted", "Comments accepted by the API (stored durably)."
)
COMMENTS_DECIDED = Counter(
    "parley_comments_decided", "Decisions made by the workers.", ["decision"]
)
AKISMET_REQUESTS = Counter(
    "parley_akismet_requests",
    "Requests to Akismet by endpoint and outcome.",
    ["endpoint", "outcome"],
)
AKISMET_SECONDS = Histogram(
    "parley_akismet_request_seconds",
    "Duration of Akismet requests.",
    ["endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 5, 10),
)
CHECK_SECONDS = Histogram(
    "parley_check_seconds",
    "Time from a comment's receipt to its decision.",
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600),
)
HTTP_REQUESTS = Counter(
    "parley_http_requests", "HTTP requests served, by endpoint and status.", ["endpoint", "status"]
)
