"""The dashboard's sign-in throttle under parallel guesses, on the real app and Redis
(issue 22): a guess beyond the limit is refused before its password is checked, and the
limits are per account and address, per account and per address, so one address cannot
lock the owner out from everywhere.

A wrong password that was checked is answered 200 (the form again, with the error); one
refused unchecked is answered 429. Counting the answers counts the checks.
"""

from __future__ import annotations

import threading
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.dashboard import create_app
from shared.throttle import LoginThrottle
from tests.support.factories import ADMIN_EMAIL, PASSWORD, csrf_token, make_account
from tests.support.stores import TEST_REDIS

WRONG = "not the password at all"
PARALLEL = 40
PER_PAIR, PER_ACCOUNT, PER_ADDRESS = 5, 20, 20  # failures per 15 minutes (shared.throttle)


@pytest.fixture
def dash_app(container):
    """The dashboard, with an admin account (ADMIN_EMAIL, PASSWORD) to guess at."""
    make_account(container, ADMIN_EMAIL, "admin")
    return create_app(container)


def post_login(client, token: str, email: str, password: str, ip: str):
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


def burst(app, attempts: list[tuple[str, str, str]]) -> Tally:
    """Send every ``(email, password, ip)`` sign-in at once, each from a client of its own;
    the tally of answer codes."""
    clients = [app.test_client() for _ in attempts]
    tokens = [csrf_token(client) for client in clients]
    start = threading.Barrier(len(attempts))

    def one(n: int) -> int:
        start.wait()
        return post_login(clients[n], tokens[n], *attempts[n]).status_code

    with ThreadPoolExecutor(len(attempts)) as pool:
        return Tally(pool.map(one, range(len(attempts))))


def sign_in(app, email: str, password: str, ip: str) -> int:
    client = app.test_client()
    return post_login(client, csrf_token(client), email, password, ip).status_code


def test_parallel_guesses_from_one_address_check_only_the_limit(dash_app):
    codes = burst(dash_app, [(ADMIN_EMAIL, WRONG, "203.0.113.5")] * PARALLEL)
    assert codes == {200: PER_PAIR, 429: PARALLEL - PER_PAIR}
    # that address is locked out of the account, even with the right password...
    assert sign_in(dash_app, ADMIN_EMAIL, PASSWORD, "203.0.113.5") == 429
    # ...but the owner, elsewhere, is not
    assert sign_in(dash_app, ADMIN_EMAIL, PASSWORD, "198.51.100.20") == 303


def test_guesses_spread_over_many_addresses_meet_the_account_limit(dash_app):
    attempts = [(ADMIN_EMAIL, WRONG, f"10.77.{n // 200}.{n % 200 + 1}") for n in range(PARALLEL)]
    codes = burst(dash_app, attempts)
    assert codes == {200: PER_ACCOUNT, 429: PARALLEL - PER_ACCOUNT}
    refused = dash_app.test_client()
    response = post_login(refused, csrf_token(refused), ADMIN_EMAIL, PASSWORD, "10.78.0.1")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 800
    assert "Too many failed sign-ins" in response.get_data(as_text=True)


def test_one_address_guessing_many_accounts_meets_the_address_limit(dash_app):
    attempts = [(f"guess{n}@news.example", WRONG, "192.0.2.66") for n in range(PARALLEL)]
    codes = burst(dash_app, attempts)
    assert codes == {200: PER_ADDRESS, 429: PARALLEL - PER_ADDRESS}
    assert sign_in(dash_app, ADMIN_EMAIL, PASSWORD, "192.0.2.66") == 429
    assert sign_in(dash_app, ADMIN_EMAIL, PASSWORD, "192.0.2.67") == 303


def test_a_right_password_after_a_few_typos_signs_in_and_clears_them(dash_app):
    ip = "198.51.100.30"
    for _ in range(PER_PAIR - 1):
        assert sign_in(dash_app, ADMIN_EMAIL, WRONG, ip) == 200
    assert sign_in(dash_app, ADMIN_EMAIL, PASSWORD, ip) == 303
    for _ in range(PER_PAIR - 1):  # a fresh allowance: the sign-in was not counted a failure
        assert sign_in(dash_app, ADMIN_EMAIL, WRONG, ip) == 200
    assert sign_in(dash_app, ADMIN_EMAIL, PASSWORD, ip) == 303


@pytest.mark.parametrize("where", ["redis", "memory"])
def test_the_throttle_counts_atomically(where, redis_client):
    # Directly, 40 threads at once: exactly the limit get through, in Redis and in the
    # process-memory fallback used while Redis is down.
    url = TEST_REDIS if where == "redis" else "redis://127.0.0.1:1/0"
    throttle = LoginThrottle(url)
    start = threading.Barrier(PARALLEL)

    def one(_):
        start.wait()
        return throttle.attempt("someone@news.example", "192.0.2.200").taken

    with ThreadPoolExecutor(PARALLEL) as pool:
        allowed = sum(pool.map(one, range(PARALLEL)))
    assert allowed == PER_PAIR
