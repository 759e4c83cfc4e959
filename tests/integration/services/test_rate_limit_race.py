"""The per-IP comment limits under a concurrent burst (issue 22): exactly the allowed number
of comments is accepted, however many arrive at the same moment; the rest are 429 with
Retry-After (docs/contract.md §3)."""

from __future__ import annotations

import threading
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.api import create_app
from tests.support.factories import GOOD, letters

BURST = 24
IP = "198.51.100.77"


def burst(app, slug: str, n: int = BURST, bodies=None) -> list:
    """POST ``n`` comments at once from one IP, each from a client of its own; the answers."""
    bodies = bodies or [dict(GOOD, content=f"Burst comment {letters(i)}.") for i in range(n)]
    clients = [app.test_client() for _ in bodies]
    start = threading.Barrier(len(bodies))

    def one(i: int):
        start.wait()
        return clients[i].post(
            f"/api/v1/articles/{slug}/comments",
            json=bodies[i],
            environ_base={"REMOTE_ADDR": IP},
        )

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, range(len(bodies))))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_flood_gap_lets_exactly_one_of_a_burst_through(backend, make_container, article):
    app = create_app(make_container(rate_limit="off", flood_seconds=15))
    answers = burst(app, article)
    assert Tally(a.status_code for a in answers) == {202: 1, 429: BURST - 1}
    for refused in (a for a in answers if a.status_code == 429):
        assert 0 < int(refused.headers["Retry-After"]) <= 15
        assert refused.mimetype == "application/problem+json"


def test_rate_limit_lets_exactly_its_number_through(make_container, article):
    app = create_app(make_container(rate_limit="3/minute", flood_seconds=0))
    answers = burst(app, article)
    assert Tally(a.status_code for a in answers) == {202: 3, 429: BURST - 3}
    assert all(0 < int(a.headers["Retry-After"]) <= 60 for a in answers if a.status_code == 429)


def test_a_refused_submission_gives_its_place_back(make_container, article):
    # Only accepted comments use up the allowance, also when the places are taken at once:
    # after a burst of invalid posts the IP may still post.
    app = create_app(make_container(rate_limit="off", flood_seconds=15))
    answers = burst(app, article, bodies=[{}] * 8)
    assert {a.status_code for a in answers} <= {422, 429}
    client = app.test_client()
    accepted = client.post(
        f"/api/v1/articles/{article}/comments", json=GOOD, environ_base={"REMOTE_ADDR": IP}
    )
    assert accepted.status_code == 202, accepted.get_json()
    again = client.post(
        f"/api/v1/articles/{article}/comments",
        json=dict(GOOD, content="A second thought, too soon."),
        environ_base={"REMOTE_ADDR": IP},
    )
    assert again.status_code == 429
