"""The label values that shared/ops/metrics.py creates at 0 (issue 22, item 15b) are the
ones the code records: every Akismet endpoint shared/spam.py meters, every outcome it can
write, every decision a check makes. A value added there and not here would appear only
at its first use again, invisible to an alert until then.
"""

from __future__ import annotations

import re

import akismet
import httpx
import pytest

from shared import spam
from shared.moderation.states import SYSTEM_TRANSITIONS
from shared.ops import metrics
from shared.ops.metrics import AKISMET_ERRORS, AKISMET_OUTCOMES, AKISMET_VERDICTS, DECISIONS
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT


def caused_by(cause: Exception) -> akismet.RequestError:
    """An akismet request error as the client raises it: from the httpx exception."""
    try:
        raise akismet.RequestError("failed") from cause
    except akismet.RequestError as exc:
        return exc


def status_error(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "https://rest.akismet.com/1.1/comment-check")
    return httpx.HTTPStatusError(
        "status", request=request, response=httpx.Response(status, request=request)
    )


FAILURES = [
    akismet.APIKeyError("invalid"),
    akismet.ProtocolError("odd answer"),
    akismet.UnknownArgumentError("bad argument"),
    TypeError("user_ip is required"),
    caused_by(httpx.ReadTimeout("slow")),
    caused_by(httpx.ConnectError("refused")),
    caused_by(status_error(503)),
    caused_by(status_error(404)),
    akismet.RequestError("no cause"),
]


def test_every_error_kind_is_a_known_outcome():
    kinds = {spam._classify(exc)[0] for exc in FAILURES}
    assert kinds == set(AKISMET_ERRORS)


def test_every_verdict_is_a_known_outcome():
    assert set(spam._VERDICTS.values()) == set(AKISMET_VERDICTS)


def test_every_metered_endpoint_is_known():
    source = (ROOT / "shared" / "spam.py").read_text()
    called = set(re.findall(r"self\._(?:call|submit)\(\s*\"([a-z-]+)\"", source))
    assert called == set(AKISMET_OUTCOMES)


def test_every_decision_is_known():
    # What a check moves a comment to; "approved" is counted as the "published" it becomes.
    decided = SYSTEM_TRANSITIONS["checking"] - {"received"}
    assert {"published" if s == "approved" else s for s in decided} == set(DECISIONS)


@pytest.mark.parametrize("endpoint", sorted(AKISMET_OUTCOMES))
def test_the_series_exist_in_this_process(endpoint):
    families = {family.name: family for family in metrics.AKISMET_REQUESTS.collect()}
    present = {
        sample.labels["outcome"]
        for sample in families["parley_akismet_requests"].samples
        if sample.name.endswith("_total") and sample.labels["endpoint"] == endpoint
    }
    assert set(AKISMET_OUTCOMES[endpoint]) <= present
