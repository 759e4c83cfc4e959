"""Fixtures on real services: Redis on 127.0.0.1:6379, SQLite files, and PostgreSQL on
127.0.0.1:5432 when it answers (its tests are skipped loudly otherwise)."""

from __future__ import annotations

import os
import uuid

import pytest
import redis as redis_lib
import sqlalchemy as sa

from shared.bootstrap import Container
from shared.config import load_settings
from shared.migrate import upgrade
from shared.models import ArticleBase, ModerationBase
from tests.akismet_fixtures import akismet_server  # noqa: F401

TEST_REDIS = os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PG_ADMIN = os.environ.get(
    "PARLEY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

_pg_state: dict = {}


def postgres_available() -> bool:
    if "ok" not in _pg_state:
        try:
            engine = sa.create_engine(PG_ADMIN, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            engine.dispose()
            _pg_state["ok"] = True
        except Exception as exc:  # noqa: BLE001
            _pg_state["ok"] = False
            _pg_state["why"] = str(exc).splitlines()[0]
    return _pg_state["ok"]


def pytest_terminal_summary(terminalreporter):
    if _pg_state.get("ok") is False:
        terminalreporter.write_sep(
            "!", "PostgreSQL NOT AVAILABLE — its tests were SKIPPED", red=True, bold=True
        )
        terminalreporter.write_line(f"    {PG_ADMIN}: {_pg_state.get('why')}", red=True)


def _create_pg_database(name: str) -> str:
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def _drop_pg_database(name: str) -> None:
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


BACKENDS = ["sqlite", "sqlite-split", "postgres", "postgres-split"]


@pytest.fixture(scope="session")
def database_urls(request, tmp_path_factory):
    """Migrated databases per backend, made once per session: {backend: (mod_url, art_url)}."""
    made: dict[str, tuple[str, str]] = {}
    pg_names: list[str] = []

    def get(backend: str) -> tuple[str, str]:
        if backend in made:
            return made[backend]
        if backend.startswith("postgres"):
            if not postgres_available():
                pytest.skip(f"PostgreSQL not available ({_pg_state.get('why')})")
            tag = uuid.uuid4().hex[:8]
            mod = _create_pg_database(f"parley_test_{tag}_mod")
            pg_names.append(f"parley_test_{tag}_mod")
            art = mod
            if backend.endswith("split"):
                art = _create_pg_database(f"parley_test_{tag}_art")
                pg_names.append(f"parley_test_{tag}_art")
        else:
            folder = tmp_path_factory.mktemp(backend)
            mod = f"sqlite:///{folder}/moderation.db"
            art = f"sqlite:///{folder}/articles.db" if backend.endswith("split") else mod
        upgrade(mod, art)
        made[backend] = (mod, art)
        return made[backend]

    yield get
    for name in pg_names:
        _drop_pg_database(name)


def truncate(url: str, metadata) -> None:
    """Empty every table; the moderation store gets its default lists back, as migrated."""
    from shared.models import ListEntry
    from shared.moderation.rules import DEFAULT_LISTS

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        if metadata is ModerationBase.metadata:
            rows = [
                {"kind": k, "value": v, "created_by": "defaults"}
                for k, vs in DEFAULT_LISTS.items()
                for v in vs
            ]
            conn.execute(sa.insert(ListEntry), rows)
    engine.dispose()


@pytest.fixture
def redis_client():
    client = redis_lib.Redis.from_url(TEST_REDIS, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def make_container(request, database_urls, redis_client):
    """Build containers on a clean database of the test's backend (default sqlite)."""
    backend = (
        request.node.callspec.params.get("backend", "sqlite")
        if hasattr(request.node, "callspec")
        else "sqlite"
    )
    mod, art = database_urls(backend)
    truncate(mod, ModerationBase.metadata)
    truncate(art, ArticleBase.metadata)
    built: list[Container] = []

    def make(**overrides) -> Container:
        values = dict(
            env="test",
            database_url=mod,
            article_store_url=art,
            redis_url=TEST_REDIS,
            secret_key="test-secret",
            admin_token="test-admin-token",
            rate_limit="off",
            flood_seconds=0,
            # A thread, not a process per test's store: the writer process is tested in
            # test_intake_writer.py and by every end-to-end test (gunicorn, the default).
            intake_writer="thread",
        )
        values.update(overrides)
        container = Container(load_settings({}, **values))
        built.append(container)
        return container

    yield make
    for container in built:
        container.close()


@pytest.fixture
def container(make_container):
    return make_container()


@pytest.fixture
def akismet_container(make_container, akismet_server):  # noqa: F811 - the imported fixture
    """A container whose workers talk to the Akismet-compatible server, fast timeouts."""
    return make_container(
        akismet_api_key="test-key",
        akismet_blog_url="https://news.example",
        akismet_api_url=akismet_server.url,
        akismet_timeout=0.5,
        akismet_retries=1,
    )


@pytest.fixture
def api_app(container):
    from services.api import create_app

    return create_app(container)


@pytest.fixture
def client(api_app):
    return api_app.test_client()


ADMIN = {"Authorization": "Bearer test-admin-token"}


@pytest.fixture
def article(client):
    """A registered article with comments open: its slug."""
    response = client.put(
        "/api/v1/admin/articles/istanbul-talks",
        json={
            "title": "Istanbul talks",
            "url": "https://news.example/istanbul-talks",
            "comments_open": True,
        },
        headers=ADMIN,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return "istanbul-talks"
