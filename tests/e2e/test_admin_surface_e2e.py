"""Issue 22, items 14 and 15b on real processes: gunicorn's api and dashboard with the
production config, prometheus-client's multiprocess mode as ``make run`` and docker run it.

- The public api answers the admin API as if it did not exist; the dashboard serves it.
- ``/metrics`` wants the bearer token of ``PARLEY_METRICS_TOKEN``.
- Freshly started, before any comment or Akismet call, the aggregated ``/metrics`` already
  has every decision and every Akismet endpoint and outcome, at 0.
"""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.ops.metrics import AKISMET_OUTCOMES, DECISIONS
from tests.support.factories import ADMIN, put_article
from tests.support.procs import stack_env
from tests.support.stack import API, DASHBOARD, Running
from tests.support.stores import sqlite_store

pytestmark = pytest.mark.e2e

METRICS_TOKEN = "e2e-metrics-token"


def test_admin_api_and_metrics_on_a_fresh_stack(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    with Running(tmp_path) as run:
        env = stack_env(
            sqlite_store(tmp_path),
            run.redis(),
            PARLEY_ADMIN_TOKEN=ADMIN["Authorization"].split()[1],
            PARLEY_METRICS_TOKEN=METRICS_TOKEN,
            PROMETHEUS_MULTIPROC_DIR=metrics_dir,
        )
        _, api_url = run.gunicorn(API, env, "api")
        _, dashboard_url = run.gunicorn(DASHBOARD, env, "dashboard")

        # Scraped before anything else happens: nothing has been decided or sent to Akismet.
        refused = httpx.get(dashboard_url + "/metrics", timeout=10)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        scraped = httpx.get(
            dashboard_url + "/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            timeout=10,
        )
        assert scraped.status_code == 200
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(scraped.text)
            for sample in family.samples
        }
        expected = [
            ("parley_comments_decided_total", (("decision", decision),)) for decision in DECISIONS
        ]
        for endpoint, outcomes in AKISMET_OUTCOMES.items():
            expected.append(("parley_akismet_request_seconds_count", (("endpoint", endpoint),)))
            expected += [
                (
                    "parley_akismet_requests_total",
                    (("endpoint", endpoint), ("outcome", outcome)),
                )
                for outcome in outcomes
            ]
        assert {key: samples.get(key) for key in expected} == dict.fromkeys(expected, 0.0)

        # The admin API: absent from the public api, served by the dashboard.
        with httpx.Client(base_url=api_url, timeout=10) as api:
            assert (
                put_article(api, "fresh", title="T", url="https://x.example/t").status_code == 404
            )
            assert api.get("/api/v1/admin/comments", headers=ADMIN).status_code == 404
        with httpx.Client(base_url=dashboard_url, timeout=10) as dashboard:
            created = put_article(dashboard, "fresh", title="T", url="https://x.example/t")
            assert created.status_code == 201, created.text
            assert created.headers["Cache-Control"] == "no-store"
            listed = dashboard.get("/api/v1/admin/comments", headers=ADMIN)
            assert listed.status_code == 200 and listed.headers["Cache-Control"] == "no-store"
