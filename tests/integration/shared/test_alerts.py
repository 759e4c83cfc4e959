"""ops/prometheus/alerts.yml: well-formed rules over metrics Parley really exposes."""

from __future__ import annotations

import re

import pytest
import yaml

from shared.moderation import pipeline
from tests.support.metrics import drain_checks, scrape, submit_remark
from tests.support.paths import REPO_ROOT

ALERTS = REPO_ROOT / "ops" / "prometheus" / "alerts.yml"
# PromQL words that look like identifiers but are not metric names.
PROMQL_WORDS = {
    "sum",
    "by",
    "rate",
    "increase",
    "max",
    "min",
    "histogram_quantile",
    "le",
    "queue",
    "source",
    "outcome",
    "without",
    "avg",
    "count",
    "and",
    "or",
    "unless",
    "on",
    "ignoring",
}


def rules() -> list[dict]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    assert groups, "no rule groups"
    return [rule for group in groups for rule in group["rules"]]


def metric_names(expr: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_strings)
    return set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_ranges)) - PROMQL_WORDS


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.get("alert", "?"))
def test_rule_is_complete(rule):
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", rule["alert"])
    assert isinstance(rule["expr"], str) and rule["expr"].strip()
    assert re.fullmatch(r"\d+[smh]", str(rule["for"]))
    assert rule["labels"]["severity"] in ("warning", "critical")
    assert rule["annotations"]["summary"].strip()


def test_alert_names_are_unique():
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names))


def test_the_required_alerts_exist():
    exprs = " ".join(rule["expr"] for rule in rules())
    for needed in (
        "parley_queue_depth",
        "parley_oldest_unchecked_age_seconds",
        "parley_akismet_requests_total",
        "parley_workers_alive",
    ):
        assert needed in exprs, needed


def test_every_metric_in_an_expr_is_exposed(
    client, article, akismet_container, container, redis_client
):
    # Real traffic first, so that every labelled series exists in the scrape.
    comment_id = submit_remark(client, article, 0)
    drain_checks(redis_client)
    pipeline.check_comment(akismet_container, comment_id)
    exposed = {name for name, _labels in scrape(container)}
    used = set().union(*(metric_names(rule["expr"]) for rule in rules()))
    assert used, "no metric found in the rules"
    assert used <= exposed, f"not exposed by /metrics: {sorted(used - exposed)}"
