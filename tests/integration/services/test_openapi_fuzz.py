"""The API answers what its OpenAPI description says, for requests generated from it.

schemathesis generates requests for every operation of ``/api/v1/openapi.json`` (valid
ones and, in its negative mode, invalid ones) and sends them to the real app: real SQLite
store and Redis, one registered article, the admin token. Each answer must be no server
error, carry a documented status code and content type, and match the documented schema.
Whether the API accepts exactly what the schema allows is not asked: some rules (a
``cursor`` from an earlier page, a ``parent_id`` that is a published comment) are not
what a schema can say.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.db import session_scope
from shared.mail import optout
from shared.models import Comment
from tests.support.factories import ADMIN

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure here is reproducible
    database=None,  # and nothing written into the checkout
    suppress_health_check=list(HealthCheck),
)


# Every operation, 60 requests each: 75 s on this machine under the team's load.
@pytest.mark.timeout(300)
def test_api_answers_as_described(api_app, dash_app, client, container, article):
    posted = client.post(
        f"/api/v1/articles/{article}/comments",
        json={"author_name": "Ana", "author_email": "ana@example.org", "content": "A first word."},
    )
    assert posted.status_code == 202
    known = {
        "slug": article,
        "id": posted.get_json()["id"],
        "rule": "links",
        "email": "ana@example.org",  # the privacy endpoints: her export and erasure
        "token": optout.link_token(container.settings.secret_key, "ana@example.org", "reply"),
    }
    with session_scope(container.stores.moderation) as session:  # for the moderators' actions
        session.get(Comment, known["id"]).status = "held"
    # The dashboard's document: the public operations and the admin API's (the api's leaves
    # the admin paths out, as it does not serve them).
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", dash_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:
        # Requests the schema allows, then requests it forbids.
        cases = operation.as_strategy() | operation.as_strategy(GenerationMode.NEGATIVE)

        @SETTINGS
        @given(case=cases)
        def answers_as_described(case):
            for name, value in (case.path_parameters or {}).items():
                # Half the time the registered article or the stored comment, so that
                # requests get past the 404.
                if isinstance(value, str) and value < "n":
                    case.path_parameters[name] = known[name]
            # The admin API is the dashboard's (docs/contract.md §1): its operations go there.
            app = dash_app if case.operation.path.startswith("/api/v1/admin/") else api_app
            case.call_and_validate(app=app, headers=ADMIN, checks=CHECKS)
            if case.media_type == "application/x-www-form-urlencoded":
                # A browser's form post: refusals come back as the article page, in HTML
                # (not described); they must not be a server error either.
                case.call_and_validate(
                    app=app, headers={**ADMIN, "Accept": "text/html"}, checks=[not_a_server_error]
                )

        answers_as_described()
