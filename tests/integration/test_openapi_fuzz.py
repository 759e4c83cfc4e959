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

from tests.conftest import ADMIN

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


def test_api_answers_as_described(api_app, article):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:
        # Requests the schema allows, then requests it forbids.
        cases = operation.as_strategy() | operation.as_strategy(GenerationMode.NEGATIVE)

        @SETTINGS
        @given(case=cases)
        def answers_as_described(case):
            if "slug" in (case.path_parameters or {}) and case.path_parameters["slug"] < "n":
                # Half the time the registered article, so that requests get past the 404.
                case.path_parameters["slug"] = article
            case.call_and_validate(headers=ADMIN, checks=CHECKS)

        answers_as_described()
