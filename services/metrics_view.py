"""``GET /metrics`` (docs/contract.md §7) as a blueprint, for the dashboard (and any app)
to register.

What it shows and how the processes are aggregated (prometheus-client's multiprocess
mode) is explained in :mod:`shared.ops.collector`.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, request

from services import http
from shared.bootstrap import Container, bootstrap
from shared.ops.collector import render_metrics

metrics_view = Blueprint("metrics_view", __name__)


@metrics_view.get("/metrics")
def metrics():
    """Every process's counters and histograms, plus gauges read from Redis and the database.

    With ``PARLEY_METRICS_TOKEN`` set, only for a scraper that sends it as a bearer token
    (docs/contract.md §2); unset, open to whoever reaches the port.
    """
    expected = http.container().settings.metrics_token
    if expected and not http.bearer_token_is(expected):
        return http.problem(
            401,
            "Unauthorized",
            "A valid metrics bearer token is required (PARLEY_METRICS_TOKEN).",
            headers={
                "WWW-Authenticate": 'Bearer realm="parley-metrics"',
                "Cache-Control": "no-store",
            },
        )
    body, content_type = render_metrics(http.container(), request.headers.get("Accept"))
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def create_metrics_app(parley: Container | None = None) -> Flask:
    """A bare app serving only ``/metrics`` and the health checks.

    For a scrape endpoint of its own (``gunicorn 'services.metrics_view:create_metrics_app()'``)
    and for tests; the dashboard registers :data:`metrics_view` itself.
    """
    app = Flask(__name__)
    http.install(app, parley or bootstrap())
    app.register_blueprint(metrics_view)
    return app
