"""The Akismet checker against an Akismet-compatible server, through the real client."""

from __future__ import annotations

import gc
import logging
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
import pytest

from shared.config import load_settings
from shared.spam import (
    AkismetChecker,
    FeedbackError,
    NullChecker,
    akismet_payload,
    build_checker,
)
from tests.akismet_fixtures import akismet_server  # noqa: F401
from tests.akismet_server import AkismetServer
from tests.support.paths import REPO_ROOT
from tests.support.procs import wait_for
from tests.support.stores import TEST_REDIS

REPO = REPO_ROOT


def make_settings(server: AkismetServer, **overrides):
    values = {
        "akismet_api_key": "test-key",
        "akismet_blog_url": "http://news.example",
        "akismet_api_url": server.url,
        "akismet_timeout": 2.0,
        "akismet_retries": 2,
        "redis_url": TEST_REDIS,  # the ops recorder writes here, never to the default db 0
    }
    values.update(overrides)
    return load_settings({}, **values)


def make_comment(**overrides) -> SimpleNamespace:
    values = {
        "id": "c0ffee",
        "article_slug": "hello",
        "article_permalink": "http://news.example/articles/hello",
        "parent_id": None,
        "author_name": "Ada Lovelace",
        "author_email": "ada@example.com",
        "author_url": "https://ada.example",
        "content": "A thoughtful remark.",
        "user_ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
        "referrer": "http://news.example/articles/hello",
        "created_at": datetime(2025, 3, 1, 12, 30, tzinfo=UTC),
    }
    values.update(overrides)
    return SimpleNamespace(**values)


@pytest.fixture
def checker_factory(akismet_server):  # noqa: F811
    made = []

    def make(**overrides) -> tuple[AkismetChecker, object]:
        settings = make_settings(akismet_server, **overrides)
        # Tiny backoff: the retry logic is under test, not the waiting.
        checker = AkismetChecker(settings, backoff_base=0.01, backoff_cap=0.02)
        made.append(checker)
        return checker, settings

    yield make
    for checker in made:
        checker.close()


def check(checker, settings, recheck_reason=None, **comment):
    return checker.check(akismet_payload(make_comment(**comment), settings, recheck_reason))


def test_ham(checker_factory, akismet_server):  # noqa: F811
    checker, settings = checker_factory()
    result = check(checker, settings)
    assert result.verdict == "ham"
    assert result.error is None and result.attempts == 1
    assert len(akismet_server.requests_to("comment-check")) == 1


@pytest.fixture
def cycles_kept():
    """What the cyclic collector finds from here on: the objects of the reference cycles
    left behind, kept for the test to look at (collection off meanwhile)."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:

        def found() -> list:
            gc.collect()
            return list(gc.garbage)

        yield found
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_answers_leave_no_reference_cycle(checker_factory, cycles_kept):
    # Each answer used to stay in a cycle with its body (response.stream → wrapper →
    # response) until a full collection: in a worker, ~45 objects a check. (A failed
    # call's exception still keeps its traceback's cycle: rare, and not this path.)
    checker, settings = checker_factory()
    verdicts = {
        check(checker, settings, author_name=name).verdict for name in ("Ada", "viagra-test-123")
    }
    assert verdicts == {"ham", "spam"}
    assert checker.submit_ham(akismet_payload(make_comment(), settings))
    left = [o for o in cycles_kept() if type(o).__module__.startswith(("httpx", "httpcore"))]
    assert left == []


def test_spam_by_author(checker_factory):
    checker, settings = checker_factory()
    result = check(checker, settings, author_name="viagra-test-123")
    assert result.verdict == "spam"
    assert result.pro_tip is None


def test_discard_tip(checker_factory):
    checker, settings = checker_factory()
    result = check(checker, settings, content="Buy now parley-test-discard")
    assert result.verdict == "discard"
    assert result.pro_tip == "discard"
    assert result.as_record()["pro_tip"] == "discard"


def test_guid_is_captured_per_call(checker_factory):
    checker, settings = checker_factory()
    first, second = check(checker, settings), check(checker, settings)
    assert first.guid and second.guid and first.guid != second.guid
    record = first.as_record()
    assert record["guid"] == first.guid
    assert record["checked_at"].endswith("Z")
    assert "error" not in record and "detail" not in record


def test_headers_are_captured_per_thread(checker_factory, akismet_server):  # noqa: F811
    # One checker serves many worker threads: each result must carry its own answer's guid.
    checker, settings = checker_factory()
    akismet_server.set(delay_ms=20)  # overlap the requests
    contents = [f"comment {i}" + (" parley-test-discard" if i % 3 == 0 else "") for i in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda text: check(checker, settings, content=text), contents))
    guids = {r["form"]["comment_content"]: r["guid"] for r in akismet_server.requests}
    for text, result in zip(contents, results, strict=True):
        assert result.guid == guids[text]
        assert result.pro_tip == ("discard" if "discard" in text else None)


def test_connections_are_kept_for_as_many_calls_as_run_at_once(checker_factory, akismet_server):  # noqa: F811
    # A worker process makes dozens of calls at once. Each burst's connections must stay
    # open for the next: with httpx's default pool, all but 20 were closed after each call,
    # and the second burst opened 28 more.
    checker, settings = checker_factory()
    akismet_server.set(delay_ms=150)  # all 48 in flight together
    with ThreadPoolExecutor(max_workers=48) as pool:
        for burst in ("first", "second"):
            texts = [f"{burst} burst, comment {i}" for i in range(48)]
            results = list(pool.map(lambda text: check(checker, settings, content=text), texts))
            assert {result.verdict for result in results} == {"ham"}
    assert akismet_server.peak_in_flight > 20
    assert akismet_server.connections_opened <= 48


def test_closing_the_checker_closes_every_threads_connection(checker_factory, akismet_server):  # noqa: F811
    checker, settings = checker_factory()
    akismet_server.set(delay_ms=50)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: check(checker, settings, content=str(i)), range(4)))
    assert akismet_server.open_connections > 1  # kept open, one per thread
    checker.close()
    wait_for(lambda: akismet_server.open_connections == 0, 5, "the server to see them closed")


def test_default_verdict_follows_the_server(checker_factory, akismet_server):  # noqa: F811
    checker, settings = checker_factory()
    akismet_server.set(default_verdict="spam")
    assert check(checker, settings).verdict == "spam"
    assert check(checker, settings, content="parley-test-ham").verdict == "ham"


def test_invalid_key_is_not_retried_and_logged_once(checker_factory, akismet_server, caplog):  # noqa: F811
    checker, settings = checker_factory(akismet_api_key="wrong-key")
    with caplog.at_level(logging.DEBUG, logger="shared.spam"):
        first = check(checker, settings)
        assert len(akismet_server.requests_to("comment-check")) == 1
        second = check(checker, settings)
    for result in (first, second):
        assert result.verdict == "error"
        assert result.error == "invalid_key"
        assert result.attempts == 1
        assert "PYTHON_AKISMET_API_KEY" in result.detail
    assert checker.key_invalid is True
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "PYTHON_AKISMET_API_KEY" in errors[0].getMessage()
    assert len(akismet_server.requests_to("comment-check")) == 2


def test_invalid_mode_sets_key_invalid_until_a_valid_answer(checker_factory, akismet_server):  # noqa: F811
    checker, settings = checker_factory()
    akismet_server.set(mode="invalid")
    assert check(checker, settings).error == "invalid_key"
    assert checker.key_invalid
    akismet_server.set(mode="normal")
    assert check(checker, settings).verdict == "ham"
    assert not checker.key_invalid


def test_http_500_is_retried_then_gives_up(checker_factory, akismet_server):  # noqa: F811
    checker, settings = checker_factory(akismet_retries=2)
    akismet_server.set(mode="error500")
    result = check(checker, settings)
    assert result.verdict == "error"
    assert result.error == "http_5xx"
    assert result.attempts == 3
    assert "500" in result.detail and "3 attempts" in result.detail
    assert len(akismet_server.requests_to("comment-check")) == 3


def test_one_503_then_ham_on_retry(checker_factory, akismet_server):  # noqa: F811
    checker, settings = checker_factory(akismet_retries=2)
    akismet_server.set(mode="error500", fail_next=1)
    result = check(checker, settings)
    assert result.verdict == "ham"
    assert result.attempts == 2
    assert len(akismet_server.requests_to("comment-check")) == 2


def test_timeout(checker_factory, akismet_server):  # noqa: F811
    checker, settings = checker_factory(akismet_timeout=0.3, akismet_retries=1)
    akismet_server.set(mode="timeout")
    result = check(checker, settings)
    assert result.verdict == "error"
    assert result.error == "timeout"
    assert result.attempts == 2
    assert result.detail == "Akismet timed out after 0.3 s (2 attempts)"
    assert 0.6 <= result.seconds < 2


def test_garbage_is_a_protocol_error(checker_factory, akismet_server):  # noqa: F811
    checker, settings = checker_factory(akismet_retries=1)
    akismet_server.set(mode="garbage")
    result = check(checker, settings)
    assert (result.verdict, result.error, result.attempts) == ("error", "protocol", 2)
    assert "<html>oops</html>" in result.detail


def test_dropped_connection_is_a_network_error(checker_factory, akismet_server):  # noqa: F811
    checker, settings = checker_factory(akismet_retries=1)
    akismet_server.set(mode="drop")
    result = check(checker, settings)
    assert (result.verdict, result.error, result.attempts) == ("error", "network", 2)


def test_unreachable_server_is_a_network_error():
    with AkismetServer() as server:
        settings = make_settings(server, akismet_retries=0)
    checker = AkismetChecker(settings)
    try:
        result = check(checker, settings)
    finally:
        checker.close()
    assert (result.verdict, result.error, result.attempts) == ("error", "network", 1)


def test_payload_carries_every_recommended_field(checker_factory, akismet_server):  # noqa: F811
    checker, settings = checker_factory()
    check(checker, settings)
    (request,) = akismet_server.requests_to("comment-check")
    form = request["form"]
    assert form["api_key"] == "test-key"
    assert form["blog"] == "http://news.example"
    assert form["user_ip"] == "203.0.113.7"
    assert form["user_agent"] == "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"
    assert form["referrer"] == "http://news.example/articles/hello"
    assert form["permalink"] == "http://news.example/articles/hello"
    assert form["comment_type"] == "comment"
    assert form["comment_author"] == "Ada Lovelace"
    assert form["comment_author_email"] == "ada@example.com"
    assert form["comment_author_url"] == "https://ada.example"
    assert form["comment_content"] == "A thoughtful remark."
    assert form["comment_date_gmt"] == "2025-03-01T12:30:00Z"
    assert form["blog_lang"] == "en"
    assert form["blog_charset"] == "UTF-8"
    assert form["honeypot_field_name"] == "website"
    assert "recheck_reason" not in form
    assert request["user_agent"].startswith("akismet.py/")


def test_recheck_reason_is_sent(checker_factory, akismet_server):  # noqa: F811
    checker, settings = checker_factory()
    check(checker, settings, recheck_reason="retry")
    (request,) = akismet_server.requests_to("comment-check")
    assert request["form"]["recheck_reason"] == "retry"


def test_api_url_path_prefix_is_kept(akismet_server):  # noqa: F811
    # A prefix in PARLEY_AKISMET_API_URL is prepended; the server knows no prefix, so the
    # request must land on /prefix/1.1/... and come back 404 (an http_status error).
    settings = make_settings(akismet_server, akismet_api_url=akismet_server.url + "/prefix/")
    checker = AkismetChecker(settings)
    try:
        result = check(checker, settings)
    finally:
        checker.close()
    assert (result.error, result.detail) == ("http_status", "Akismet answered HTTP 404 (1 attempt)")


@pytest.mark.parametrize("endpoint", ["submit-ham", "submit-spam"])
def test_feedback_reaches_akismet_with_the_submitters_data(
    checker_factory,
    akismet_server,  # noqa: F811
    endpoint,
):
    checker, settings = checker_factory()
    payload = akismet_payload(make_comment(), settings)
    submit = checker.submit_ham if endpoint == "submit-ham" else checker.submit_spam
    assert submit(payload) is True
    (request,) = akismet_server.requests_to(endpoint)
    form = request["form"]
    assert form["user_ip"] == "203.0.113.7"
    assert form["user_agent"] == "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"
    assert form["comment_author"] == "Ada Lovelace"
    assert form["comment_author_email"] == "ada@example.com"
    assert form["comment_content"] == "A thoughtful remark."
    assert form["comment_date_gmt"] == "2025-03-01T12:30:00Z"


def test_feedback_errors_say_whether_to_retry(checker_factory, akismet_server):  # noqa: F811
    checker, settings = checker_factory()
    payload = akismet_payload(make_comment(), settings)
    akismet_server.set(mode="error503")
    with pytest.raises(FeedbackError) as excinfo:
        checker.submit_spam(payload)
    assert excinfo.value.transient is True
    assert excinfo.value.kind == "http_5xx"
    akismet_server.set(mode="invalid")
    with pytest.raises(FeedbackError) as excinfo:
        checker.submit_ham(payload)
    assert excinfo.value.transient is False
    assert excinfo.value.kind == "invalid_key"


def test_null_checker_skips():
    settings = load_settings({})
    checker = build_checker(settings)
    assert isinstance(checker, NullChecker)
    result = checker.check({"user_ip": "203.0.113.7"})
    assert result.verdict == "skipped"
    assert "not configured" in result.detail
    assert result.as_record()["verdict"] == "skipped"
    assert checker.submit_ham({}) is False and checker.submit_spam({}) is False
    checker.close()


def test_build_checker_uses_akismet_when_configured(akismet_server):  # noqa: F811
    checker = build_checker(make_settings(akismet_server))
    try:
        assert isinstance(checker, AkismetChecker)
    finally:
        checker.close()


def test_server_control_over_http(akismet_server):  # noqa: F811
    with httpx.Client(base_url=akismet_server.url) as http:
        state = http.post("/_control", json={"mode": "error503", "fail_next": 1}).json()
        assert state["mode"] == "error503" and state["fail_next"] == 1
        form = {"api_key": "test-key", "blog": "http://news.example", "user_ip": "203.0.113.7"}
        assert http.post("/1.1/comment-check", data=form).status_code == 503
        answer = http.post("/1.1/comment-check", data=form)
        assert answer.text == "false" and answer.headers["X-akismet-guid"]
        missing = http.post("/1.1/comment-check", data={"api_key": "test-key"})
        assert missing.text == "Missing required field: blog."
        assert http.post("/_control", json={"mode": "nonsense"}).status_code == 400
        assert len(http.get("/_requests").json()) == 3
        http.post("/_reset")
        assert http.get("/_requests").json() == []


def test_server_runs_as_a_subprocess():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.akismet_server", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("akismet-compatible server on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        answer = httpx.post(url + "/1.1/verify-key", data={"key": "test-key", "blog": "http://x"})
        assert answer.text == "valid"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()
