"""Trial mode end to end (docs/contract.md §4): the admin API's rules, the dashboard's
rule and list-entry modes, and the worker's next check honouring them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.accounts import AuditLog
from shared.db import session_scope
from shared.models import Comment, ListEntry
from shared.moderation import pipeline
from shared.moderation.rulebook import rule_names
from shared.moderation.rules import WEIGHTS
from tests.support.factories import ADMIN, ADMIN_EMAIL, LINKS, submit, submit_in_process

RULES = "/api/v1/admin/rules"


@pytest.fixture
def api(dash_app):
    """The admin JSON API's client: the dashboard serves it (docs/contract.md §1)."""
    return dash_app.test_client()


def put(api, rule: str, body, headers=ADMIN):
    return api.put(f"{RULES}/{rule}", json=body, headers=headers)


def reasons(container, cid: str) -> list[dict]:
    with container.stores.moderation() as session:
        return session.get(Comment, cid).reasons


def checked(container, client, article, content: str, email: str) -> tuple[str, list[dict]]:
    cid = submit(client, article, content=content, author_email=email)
    status = pipeline.check_comment(container, cid)
    return status, reasons(container, cid)


def audits(container, action: str) -> list[tuple]:
    with container.stores.moderation() as session:
        rows = session.scalars(sa.select(AuditLog).where(AuditLog.action == action))
        return [(e.actor, e.target, e.detail) for e in rows]


def entry_id(container, kind: str, value: str) -> int:
    with container.stores.moderation() as session:
        return session.scalar(
            sa.select(ListEntry.id).where(ListEntry.kind == kind, ListEntry.value == value)
        )


# --- the admin API --------------------------------------------------------------------


def test_rules_need_the_token(api):
    assert api.get(RULES).status_code == 401
    assert api.put(f"{RULES}/links", json={"mode": "off"}).status_code == 401
    assert api.get("/api/v1/admin/quality").status_code == 401


def test_every_rule_is_listed_on_at_its_default_weight(api):
    response = api.get(RULES, headers=ADMIN)
    assert response.status_code == 200
    body = response.get_json()
    assert [row["rule"] for row in body] == list(rule_names())
    assert body[-1]["rule"] == "classifier"
    by_rule = {row["rule"]: row for row in body}
    assert by_rule["links"] == {"rule": "links", "mode": "on", "weight": WEIGHTS["links"]}
    assert {"block_word", "form_too_fast", "trusted_author", "mixed_script"} <= set(by_rule)
    assert not {"duplicate_text_each_more", "duplicate_text_max"} & set(by_rule)


def test_a_rule_is_set_audited_and_listed(api, container):
    response = put(
        api,
        "links",
        {"mode": "trial", "weight": 1.5},
        {**ADMIN, "X-Parley-Actor": "ops@news.example"},
    )
    assert response.status_code == 200
    assert response.get_json() == {"rule": "links", "mode": "trial", "weight": 1.5}
    listed = {row["rule"]: row for row in api.get(RULES, headers=ADMIN).get_json()}
    assert listed["links"] == {"rule": "links", "mode": "trial", "weight": 1.5}
    # The weight left out is kept; null is the default again.
    assert put(api, "links", {"mode": "on"}).get_json()["weight"] == 1.5
    assert put(api, "links", {"mode": "on", "weight": None}).get_json() == {
        "rule": "links",
        "mode": "on",
        "weight": 1.0,
    }
    assert audits(container, "rule.set") == [
        (
            "ops@news.example",
            "links",
            {"old": {"mode": "on", "weight": None}, "new": {"mode": "trial", "weight": 1.5}},
        ),
        (
            "admin-api",
            "links",
            {"old": {"mode": "trial", "weight": 1.5}, "new": {"mode": "on", "weight": 1.5}},
        ),
        (
            "admin-api",
            "links",
            {"old": {"mode": "on", "weight": 1.5}, "new": {"mode": "on", "weight": None}},
        ),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "mode"),
        ({"mode": "maybe"}, "mode"),
        ({"mode": "ON"}, "mode"),
        ({"mode": "on", "weight": "2"}, "weight"),
        ({"mode": "on", "weight": True}, "weight"),
        ({"mode": "on", "weight": 1e9}, "weight"),
        ({"mode": "on", "weight": [1]}, "weight"),
    ],
)
def test_bad_modes_and_weights_are_422(api, container, body, field):
    response = put(api, "links", body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert audits(container, "rule.set") == []


def test_unknown_rule_is_404_and_a_body_not_an_object_400(api):
    assert put(api, "nonsense", {"mode": "on"}).status_code == 404
    assert put(api, "duplicate_text_max", {"mode": "on"}).status_code == 404
    response = api.put(
        f"{RULES}/links", data="[1]", headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_the_classifier_is_a_rule_whose_default_mode_is_the_setting(make_container):
    from services.dashboard import create_app

    container = make_container(classifier="trial")
    api = create_app(container).test_client()
    by_rule = {r["rule"]: r for r in api.get(RULES, headers=ADMIN).get_json()}
    assert by_rule["classifier"]["mode"] == "trial"
    assert put(api, "classifier", {"mode": "off"}).get_json()["mode"] == "off"
    by_rule = {r["rule"]: r for r in api.get(RULES, headers=ADMIN).get_json()}
    assert by_rule["classifier"]["mode"] == "off"


# --- the next check ---------------------------------------------------------------------


def test_a_rule_on_trial_is_shown_and_not_counted_by_the_next_check(
    api, client, container, article
):
    status, before = checked(container, client, article, LINKS, "one@example.org")
    assert status == "held" and before[0]["rule"] == "links" and "trial" not in before[0]
    assert put(api, "links", {"mode": "trial"}).status_code == 200
    status, after = checked(container, client, article, LINKS + " again", "two@example.org")
    assert status == "published"
    [links] = after
    assert links["rule"] == "links" and links["trial"] is True and links["score"] == 1.0


def test_a_rule_that_is_off_is_not_evaluated(api, client, container, article):
    assert put(api, "links", {"mode": "off"}).status_code == 200
    status, after = checked(container, client, article, LINKS, "one@example.org")
    assert status == "published" and after == []


def test_a_weight_is_used_by_the_next_check(api, client, container, article):
    assert put(api, "links", {"mode": "on", "weight": 3.0}).status_code == 200
    status, after = checked(container, client, article, LINKS, "one@example.org")
    assert status == "spam" and after[0]["score"] == 3.0


def test_a_list_entry_on_trial_is_shown_with_its_entry_and_not_counted(
    admin, client, container, article
):
    viagra = entry_id(container, "block_word", "viagra")
    response = admin.post_form(f"/admin/settings/lists/mode/{viagra}", {"mode": "trial"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#list-block_word")
    status, after = checked(container, client, article, "Cheap viagra here", "one@example.org")
    assert status == "published"
    [trial] = after
    assert trial["rule"] == "block_word" and trial["trial"] is True and trial["score"] == 3.0
    assert trial["entry"] == {"kind": "block_word", "value": "viagra"}
    assert audits(container, "list.mode") == [
        (ADMIN_EMAIL, "block_word", {"value": "viagra", "old": "on", "new": "trial"})
    ]
    html = admin.get("/admin/settings").get_data(as_text=True)
    assert '<span class="badge">trial</span>' in html


def test_a_list_entry_that_is_off_is_not_evaluated(admin, client, container, article):
    viagra = entry_id(container, "block_word", "viagra")
    assert (
        admin.post_form(f"/admin/settings/lists/mode/{viagra}", {"mode": "off"}).status_code == 303
    )
    status, after = checked(container, client, article, "Cheap viagra here", "one@example.org")
    assert status == "published" and after == []


def test_an_allowed_domain_keeps_links_from_counting(admin, client, container, article):
    response = admin.post_form(
        "/admin/settings/lists/allowed_domain", {"value": "https://a.example/"}
    )
    assert response.status_code == 303
    status, after = checked(container, client, article, LINKS, "one@example.org")
    assert status == "published" and after == []


def test_a_bad_entry_mode_is_refused(admin, container):
    viagra = entry_id(container, "block_word", "viagra")
    response = admin.post_form(f"/admin/settings/lists/mode/{viagra}", {"mode": "maybe"})
    assert response.status_code == 303
    assert "the mode must be one of on, trial, off" in admin.get("/admin/settings").get_data(
        as_text=True
    )
    response = admin.post_form("/admin/settings/lists/mode/999999", {"mode": "off"})
    assert response.status_code == 303
    assert audits(container, "list.mode") == []


# --- the dashboard's rules form -----------------------------------------------------------


def test_the_settings_page_sets_every_rules_mode_and_weight(api, admin, client, container, article):
    html = admin.get("/admin/settings").get_data(as_text=True)
    assert 'id="rules"' in html and 'name="mode-classifier"' in html
    assert 'name="weight-links"' in html and "Allowed link domains" in html
    form = {f"mode-{rule}": "on" for rule in rule_names()}
    form.update({"mode-links": "trial", "weight-hold_word": "2"})
    response = admin.post_form("/admin/settings/rules", form)
    assert response.status_code == 303 and response.headers["Location"].endswith("#rules")
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "Saved: links, hold_word." in page
    rows = {r["rule"]: r for r in api.get(RULES, headers=ADMIN).get_json()}
    assert rows["links"]["mode"] == "trial" and rows["hold_word"]["weight"] == 2.0
    assert {target for _, target, _ in audits(container, "rule.set")} == {"links", "hold_word"}
    status, after = checked(container, client, article, LINKS, "one@example.org")
    assert status == "published" and after[0]["trial"] is True


def test_the_rules_form_refuses_bad_values(api, admin):
    response = admin.post_form(
        "/admin/settings/rules", {"mode-links": "maybe", "weight-hold_word": "heavy"}
    )
    assert response.status_code == 303
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "links: mode must be one of on, trial, off" in page
    assert "hold_word: weight must be a number" in page
    rows = {r["rule"]: r for r in api.get(RULES, headers=ADMIN).get_json()}
    assert rows["links"]["mode"] == "on" and rows["hold_word"]["weight"] == 1.0


def test_moderators_cannot_set_modes(moderator, container):
    assert moderator.post_form("/admin/settings/rules", {"mode-links": "off"}).status_code == 403
    viagra = entry_id(container, "block_word", "viagra")
    assert (
        moderator.post_form(f"/admin/settings/lists/mode/{viagra}", {"mode": "off"}).status_code
        == 403
    )
    assert moderator.get("/admin/quality").status_code == 403


def test_the_forms_need_the_csrf_token(admin):
    assert admin.client.post("/admin/settings/rules", data={"mode-links": "off"}).status_code == 400


def test_the_classifiers_mode_set_by_an_admin_is_used_by_the_next_check(api, container, article):
    """The stored mode wins over PARLEY_CLASSIFIER: trial shows, off skips the scoring."""
    from shared.classifier import store, training
    from shared.classifier.dataset import Row
    from tests.support.corpus import comments

    rows = [
        Row(r["text"], r["label"], r["author_name"], "", r["author_url"] or None)
        for r in comments(40, 40, 1)
    ]
    with session_scope(container.stores.moderation) as session:
        store.import_rows(session, rows)
    assert training.retrain(container)["trained"] is True
    spam = "Great post! Buy cheap viagra online without prescription https://bestpills.top/p-1"

    def classifier_reason(n: int) -> dict | None:
        cid = submit_in_process(container, article, f"{spam} ({n})", email=f"c{n}@example.org")
        pipeline.check_comment(container, cid)
        return next((r for r in reasons(container, cid) if r["rule"] == "classifier"), None)

    assert "trial" not in classifier_reason(1)
    assert put(api, "classifier", {"mode": "trial", "weight": 0.5}).status_code == 200
    trial = classifier_reason(2)
    assert trial["trial"] is True and trial["score"] in (1.5, 0.5)  # band score × 0.5
    assert put(api, "classifier", {"mode": "off"}).status_code == 200
    assert classifier_reason(3) is None
