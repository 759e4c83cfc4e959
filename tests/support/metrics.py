"""Reading Prometheus pages and Celery queues in tests: scrape, parse, look up, drain."""

from __future__ import annotations

import base64
import json

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from services import http
from services.metrics_view import metrics_view
from shared import taskqueue
from tests.support import factories

REMARKS = (
    "The prisoner exchange is the first good news from these talks in years.",
    "I wonder whether Turkey can keep both delegations at the table next time.",
    "Written ceasefire conditions sound like progress, even if modest.",
    "Families waiting at the Belarusian border deserve this much at least.",
    "Short meetings rarely produce breakthroughs; this one produced a swap.",
    "Three years without direct contact makes any meeting remarkable.",
)
N = len(REMARKS)
SUBMIT_RULE = "/api/v1/articles/<slug>/comments"


def scrape(container) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} from GET /metrics of a bare app with the blueprint."""
    app = Flask(__name__)
    http.install(app, container)
    app.register_blueprint(metrics_view)
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return samples_of(response.get_data(as_text=True))


def samples_of(text: str) -> dict[tuple, float]:
    """Every sample of a /metrics page, keyed by name and sorted labels."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def submit_remark(client, slug: str, i: int) -> str:
    """POST remark ``i`` of :data:`REMARKS` as reader ``i``; its id (asserts a 202)."""
    return factories.submit(
        client,
        slug,
        author_name=f"Reader {i}",
        author_email=f"reader{i}@example.org",
        content=REMARKS[i],
    )


def queued_comment_ids(raw_messages) -> list[str]:
    """Comment ids in check messages, whether sent one per task or as an intake batch."""
    ids = []
    for raw in raw_messages:
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        assert message["headers"]["task"] in (
            taskqueue.CHECK,
            getattr(taskqueue, "CHECK_MANY", taskqueue.CHECK),
        )
        ids.extend(args[0] if isinstance(args[0], list) else [args[0]])
    return ids


def drain_checks(redis_client) -> list[str]:
    """Take every queued check off the list, as a worker would, and return the comment ids."""
    raw = []
    while (message := redis_client.lpop("checks")) is not None:
        raw.append(message)
    return queued_comment_ids(raw)
