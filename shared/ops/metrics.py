"""Prometheus metrics of docs/contract.md §7.

Counters and histograms are recorded in whichever process does the work (api, worker,
beat). When ``PROMETHEUS_MULTIPROC_DIR`` is set (``make run`` and docker-compose set it),
prometheus-client's multiprocess mode writes them to files there and the dashboard's
``/metrics`` aggregates every process; gauges that describe shared state (queue depth,
comments by status) are computed from Redis and the database when scraped
(:mod:`shared.ops.collector`).

Every label value known in advance has its series from a process's start, at 0
(:func:`_initialise`): a series that appears only at its first use is invisible to an
alert until then (``increase()`` over a series born at 1 is 0), so the first Akismet key
error or the first spam would not be seen. In multiprocess mode each process writes those
zeros to its own file, so the dashboard's own file already shows them in the sum.
``parley_http_requests_total`` is left to appear as requests come: its endpoint and status
pairs are many and open-ended.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# docs/contract.md §7: the decisions a check records (shared/moderation/policy.py).
DECISIONS = ("published", "held", "spam", "discarded")
# The Akismet calls shared/spam.py makes and meters, and what it records for each: the
# verdicts of comment-check, "ok" for the two corrections, and for all three the error
# kinds of spam._classify (tests/unit/shared/test_metric_labels.py keeps these in step).
AKISMET_VERDICTS = ("ham", "spam", "discard")
AKISMET_ERRORS = (
    "timeout",
    "network",
    "http_5xx",
    "http_status",
    "protocol",
    "invalid_key",
    "config",
)
AKISMET_OUTCOMES = {
    "comment-check": AKISMET_VERDICTS + AKISMET_ERRORS,
    "submit-ham": ("ok", *AKISMET_ERRORS),
    "submit-spam": ("ok", *AKISMET_ERRORS),
}

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
# docs/contract.md §3: the reasons a reader may give (shared.validation.REPORT_REASONS).
REPORT_REASONS = ("spam", "abuse", "off-topic", "other")
REPORTS = Counter(
    "parley_reports",
    "Readers' reports counted (one per reader per comment), by reason.",
    ["reason"],
)


def _initialise() -> None:
    """Create every known labelled series at 0 (see the module's docstring)."""
    for decision in DECISIONS:
        COMMENTS_DECIDED.labels(decision=decision)
    for endpoint, outcomes in AKISMET_OUTCOMES.items():
        AKISMET_SECONDS.labels(endpoint=endpoint)
        for outcome in outcomes:
            AKISMET_REQUESTS.labels(endpoint=endpoint, outcome=outcome)
    for reason in REPORT_REASONS:
        REPORTS.labels(reason=reason)


_initialise()
