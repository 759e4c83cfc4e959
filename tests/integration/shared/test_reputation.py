"""Reputation is tied to something the reader holds, not to an address anyone can type
(issue 22 item 5; docs/contract.md §3 ``commenter_token`` and ``author_token``).

Through the real API, intake writer, SQLite store and Redis, and the check as a worker
runs it: the author's record counts the comments made with the same commenter key, and the
trusted list applies only to an address the host site signed for.
"""

from __future__ import annotations

import time

import pytest

from services.api import create_app
from shared import commenter
from shared.db import session_scope
from shared.models import Comment
from shared.moderation import actions, pipeline
from shared.moderation.lists import add_list_entry
from tests.support.factories import GOOD, LINKS

REGULAR = "regular@example.org"
HOST_SECRET = "the host site's shared secret"


def post(client, slug, headers=None, **fields):
    body = {**GOOD, "author_email": REGULAR, **fields}
    return client.post(f"/api/v1/articles/{slug}/comments", json=body, headers=headers or {})


def checked(container, client, slug, headers=None, **fields) -> tuple[Comment, dict]:
    """Post a comment, check it as a worker would; the stored row and the 202's body."""
    response = post(client, slug, headers, **fields)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    pipeline.check_comment(container, body["id"])
    with container.stores.moderation() as session:
        return session.get(Comment, body["id"]), body


def rules(row: Comment) -> list[str]:
    return [reason["rule"] for reason in row.reasons]


def test_a_regulars_address_earns_a_stranger_no_history(container, client, article):
    """The finding: anyone typing a regular's address got the regular's -1."""
    first, _ = checked(container, client, article, content="A first, published remark.")
    assert first.status == "published"
    stranger, _ = checked(container, client, article, content="Typed someone else's address.")
    assert "author_approved_history" not in rules(stranger)
    # with a token of their own, too: it carries their record, not the address's
    held, mine = checked(
        container, client, article, author_email="spammer@example.net", content=LINKS
    )
    assert held.status == "held"
    with_token, _ = checked(
        container,
        client,
        article,
        content="Now with my token and her address.",
        commenter_token=mine["commenter_token"],
    )
    assert "author_approved_history" not in rules(with_token)


def test_the_regular_with_their_token_keeps_their_history(container, client, article):
    first, body = checked(container, client, article, content="A first, published remark.")
    token = body["commenter_token"]
    assert first.status == "published" and first.author_key
    assert token and first.author_key == commenter.author_key(commenter.read("test-secret", token))
    second, again = checked(
        container, client, article, content="A second remark.", commenter_token=token
    )
    assert second.author_key == first.author_key
    assert "author_approved_history" in rules(second)
    assert again["commenter_token"] == token, "the same key is handed back"
    # the header works as well as the field
    third, _ = checked(
        container, client, article, {commenter.HEADER: token}, content="A third remark."
    )
    assert "author_approved_history" in rules(third) and third.author_key == first.author_key
    assert "2 comments by the author approved before" in str(third.reasons)


def test_a_griefer_cannot_poison_a_regulars_address(container, client, article):
    """A spam record follows the key too: spam sent under a regular's address does not
    count against the regular's next comment."""
    _, body = checked(container, client, article, content="A first, published remark.")
    token = body["commenter_token"]
    poison, griefer = checked(container, client, article, content="Griefing under her address.")
    actions.moderate(container, poison.id, "spam", "mod@news.example")
    regular, _ = checked(
        container, client, article, content="The regular again.", commenter_token=token
    )
    assert "author_spam_history" not in rules(regular)
    assert "author_approved_history" in rules(regular)
    # while the spammer's own key does carry the record
    spammer, _ = checked(
        container,
        client,
        article,
        content="The griefer again.",
        commenter_token=griefer["commenter_token"],
    )
    assert "author_spam_history" in rules(spammer)


def test_a_forged_commenter_token_is_a_new_reader(container, client, article):
    first, body = checked(container, client, article, content="A first, published remark.")
    forged = body["commenter_token"][:-2] + "xx"
    row, answer = checked(container, client, article, content="Forged.", commenter_token=forged)
    assert row.author_key != first.author_key and "author_approved_history" not in rules(row)
    assert answer["commenter_token"] != forged


@pytest.fixture
def trusting(make_container, article):
    """A container whose host site signs author tokens, with REGULAR on the trusted list."""
    parley = make_container(author_token_secret=HOST_SECRET)
    with session_scope(parley.stores.moderation) as session:
        add_list_entry(session, "trusted_author", REGULAR, "admin@news.example")
    parley.policy_cache.invalidate()
    return parley


def test_the_trusted_list_needs_the_host_sites_signature(trusting, article):
    client = create_app(trusting).test_client()
    typed, _ = checked(trusting, client, article, content="Only typed the address.")
    assert "trusted_author" not in rules(typed) and typed.author_verified is False
    expires = int(time.time()) + 3600
    signed = commenter.sign_author_token(HOST_SECRET, REGULAR, expires)
    verified, _ = checked(trusting, client, article, content="Signed in.", author_token=signed)
    assert verified.author_verified is True and "trusted_author" in rules(verified)
    # the address is compared trimmed and without regard to case
    upper = commenter.sign_author_token(HOST_SECRET, " Regular@Example.ORG ", expires)
    row, _ = checked(trusting, client, article, content="Case.", author_token=upper)
    assert "trusted_author" in rules(row)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: commenter.sign_author_token("a guess", REGULAR, 2**40), id="forged"),
        pytest.param(
            lambda: commenter.sign_author_token(HOST_SECRET, REGULAR, int(time.time()) - 1),
            id="expired",
        ),
        pytest.param(
            lambda: commenter.sign_author_token(HOST_SECRET, "other@example.org", 2**40),
            id="another-address",
        ),
        pytest.param(lambda: "v1.99999999999.00ff", id="garbage"),
        pytest.param(lambda: "", id="empty"),
    ],
)
def test_a_bad_author_token_is_ignored_not_refused(trusting, article, token):
    """Accepted (a host site's clock or secret mistake never loses a reader's comment),
    as from an unverified author: the trusted list earns nothing."""
    client = create_app(trusting).test_client()
    row, _ = checked(trusting, client, article, content="Bad token.", author_token=token())
    assert row.author_verified is False and "trusted_author" not in rules(row)


def test_without_the_setting_no_author_token_is_accepted(container, client, article):
    with session_scope(container.stores.moderation) as session:
        add_list_entry(session, "trusted_author", REGULAR, "admin@news.example")
    container.policy_cache.invalidate()
    signed = commenter.sign_author_token("", REGULAR, 2**40)
    row, _ = checked(container, client, article, content="No secret set.", author_token=signed)
    assert row.author_verified is False and "trusted_author" not in rules(row)


def test_a_token_field_that_is_not_a_string_is_a_422(client, article):
    for field in ("commenter_token", "author_token"):
        response = post(client, article, **{field: 12})
        assert response.status_code == 422
        assert response.get_json()["errors"] == {field: ["must be a string"]}


def test_the_form_keeps_the_key_in_an_httponly_cookie(container, client, article):
    url = f"/api/v1/articles/{article}/comments"
    form = {**GOOD, "author_email": REGULAR}
    first = client.post(url, data={**form, "content": "From the form, once."})
    assert first.status_code == 303
    cookie = first.headers["Set-Cookie"]
    assert cookie.startswith(f"{commenter.COOKIE}=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "max-age", "path"} <= attributes
    assert "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie
    assert "Path=/api/v1/articles/" in cookie and "Secure" not in cookie  # plain http here
    second = client.post(url, data={**form, "content": "From the form, twice."})
    assert second.status_code == 303
    with container.stores.moderation() as session:
        rows = {c.content: c for c in session.query(Comment)}
    one, two = rows["From the form, once."], rows["From the form, twice."]
    assert one.author_key and one.author_key == two.author_key
    # a browser without the cookie is a reader of its own
    other = create_app(container).test_client()
    assert other.post(url, data={**form, "content": "Another browser."}).status_code == 303
    with container.stores.moderation() as session:
        third = session.query(Comment).filter_by(content="Another browser.").one()
    assert third.author_key != one.author_key


def test_the_form_cookie_carries_the_history(container, client, article):
    url = f"/api/v1/articles/{article}/comments"
    form = {**GOOD, "author_email": REGULAR}
    client.post(url, data={**form, "content": "Form one."})
    with container.stores.moderation() as session:
        first = session.query(Comment).filter_by(content="Form one.").one()
    pipeline.check_comment(container, first.id)
    client.post(url, data={**form, "content": "Form two."})
    with container.stores.moderation() as session:
        second = session.query(Comment).filter_by(content="Form two.").one()
    pipeline.check_comment(container, second.id)
    with container.stores.moderation() as session:
        assert "author_approved_history" in rules(session.get(Comment, second.id))


def test_a_replay_answers_with_the_first_token_and_no_other(client, article):
    headers = {"Idempotency-Key": "reputation-replay-1"}
    first = post(client, article, headers, content="Sent twice.")
    again = post(client, article, headers, content="Sent twice.")
    assert first.status_code == again.status_code == 202
    assert again.get_json() == first.get_json()  # the first answer, its new key included
    # a retry of a comment sent with a key sends it again, and gets it back
    token = first.get_json()["commenter_token"]
    headers = {"Idempotency-Key": "reputation-replay-2"}
    keyed = post(client, article, headers, content="With my key.", commenter_token=token)
    retry = post(client, article, headers, content="With my key.", commenter_token=token)
    assert keyed.get_json() == retry.get_json() and retry.get_json()["commenter_token"] == token
    # without it, the replay hands out no key: not the reader's, not a new one
    bare = post(client, article, headers, content="With my key.")
    assert bare.status_code == 202 and "commenter_token" not in bare.get_json()
