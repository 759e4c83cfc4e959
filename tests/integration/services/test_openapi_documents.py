"""Where the OpenAPI document is served and what it lists: the api describes what it
serves (the admin API only with PARLEY_ADMIN_API_ON_PUBLIC=1, since its paths are a 404
there otherwise), the dashboard describes the public and the admin API."""

from __future__ import annotations

from services.api import create_app as create_api
from services.dashboard import create_app as create_dashboard
from services.openapi import ADMIN_PREFIX


def _paths(app) -> set[str]:
    answer = app.test_client().get("/api/v1/openapi.json")
    assert answer.status_code == 200
    return set(answer.get_json()["paths"])


def test_the_api_lists_no_path_it_does_not_serve(container, make_container):
    api = create_api(container)
    paths = _paths(api)
    assert "/api/v1/articles/{slug}/comments" in paths
    assert not [p for p in paths if p.startswith(ADMIN_PREFIX)]
    client = api.test_client()
    assert client.get("/api/v1/admin/comments").status_code == 404

    public = create_api(make_container(admin_api_on_public=True))
    assert any(p.startswith(ADMIN_PREFIX) for p in _paths(public))


def test_the_dashboard_describes_both(container):
    paths = _paths(create_dashboard(container))
    assert "/api/v1/articles/{slug}/comments" in paths
    assert "/api/v1/admin/comments" in paths
    assert "/api/v1/admin/webhooks" in paths


def test_the_dashboard_document_names_the_dashboard(container):
    doc = create_dashboard(container).test_client().get("/api/v1/openapi.json").get_json()
    assert doc["servers"] == [{"url": container.settings.dashboard_url.rstrip("/")}]
