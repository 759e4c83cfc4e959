"""Fixtures on real services: Redis on 127.0.0.1:6379, SQLite files, and PostgreSQL on
127.0.0.1:5432 when it answers (its tests are skipped loudly otherwise).

Helpers that test modules call are in tests/support/, not here.
"""

from __future__ import annotations

import uuid

import pytest
import redis as redis_lib
from click.testing import CliRunner

from cli.main import main as parley_main
from shared.bootstrap import Container
from shared.config import load_settings
from shared.migrate import upgrade
from shared.models import ArticleBase, ModerationBase
from tests.akismet_fixtures import akismet_server  # noqa: F401
from tests.support.factories import (
    ADMIN_EMAIL,
    ADMIN_TOKEN,
    MOD_EMAIL,
    Dash,
    put_article,
    signed_in,
)
from tests.support.stores import (
    PG_ADMIN,
    TEST_REDIS,
    create_database,
    drop_database,
    postgres_available,
    postgres_missing,
    truncate,
)


def pytest_terminal_summary(terminalreporter):
    if (why := postgres_missing()) is not None:
        terminalreporter.write_sep(
            "!", "PostgreSQL NOT AVAILABLE — its tests were SKIPPED", red=True, bold=True
        )
        terminalreporter.write_line(f"    {PG_ADMIN}: {why}", red=True)


BACKENDS = ["sqlite", "sqlite-split", "postgres", "postgres-split"]
POSTGRES_BACKENDS = {"postgres", "postgres-split"}


def on_postgres(item: pytest.Item) -> bool:
    """Whether a collected test runs on a PostgreSQL value of the ``backend`` fixture
    (parametrized directly or through the fixture)."""
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("backend") in POSTGRES_BACKENDS


def pytest_collection_modifyitems(config, items):
    # The "postgres" marker selects what needs the PostgreSQL server: `-m postgres` runs
    # those tests alone, `-m "not postgres"` everything else. Every test on PostgreSQL
    # today gets it through `backend`; one that reached the server another way would carry
    # @pytest.mark.postgres itself.
    for item in items:
        if on_postgres(item):
            item.add_marker(pytest.mark.postgres)


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
                pytest.skip(f"PostgreSQL not available ({postgres_missing()})")
            tag = uuid.uuid4().hex[:8]
            mod = create_database(PG_ADMIN, f"parley_test_{tag}_mod")
            pg_names.append(f"parley_test_{tag}_mod")
            art = mod
            if backend.endswith("split"):
                art = create_database(PG_ADMIN, f"parley_test_{tag}_art")
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
        drop_database(PG_ADMIN, name)


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
            admin_token=ADMIN_TOKEN,
            rate_limit="off",
            flood_seconds=0,
            report_rate_limit="off",
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


@pytest.fixture
def admin_client(dash_app):
    """A test client of the dashboard, where the admin JSON API is served (docs/contract.md
    §1; the api serves it only with PARLEY_ADMIN_API_ON_PUBLIC=1). Its calls send
    ``tests.support.factories.ADMIN``."""
    return dash_app.test_client()


@pytest.fixture
def article(admin_client):
    """A registered article with comments open (through the admin API): its slug."""
    response = put_article(
        admin_client,
        "istanbul-talks",
        title="Istanbul talks",
        url="https://news.example/istanbul-talks",
        comments_open=True,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return "istanbul-talks"


@pytest.fixture
def dash_app(container):
    """The dashboard app on the test's container."""
    from services.dashboard import create_app

    return create_app(container)


@pytest.fixture
def admin(dash_app, container) -> Dash:
    """The dashboard, signed in as a new admin (ADMIN_EMAIL)."""
    return signed_in(dash_app, container, ADMIN_EMAIL, "admin")


@pytest.fixture
def moderator(dash_app, container) -> Dash:
    """The dashboard, signed in as a new moderator (MOD_EMAIL)."""
    return signed_in(dash_app, container, MOD_EMAIL, "moderator")


@pytest.fixture
def parley(container):
    """Run ``parley ARGS`` with the test container's settings in the environment."""
    env = {
        "PARLEY_ENV": "test",
        "PARLEY_DATABASE_URL": container.settings.database_url,
        "PARLEY_ARTICLE_STORE_URL": container.settings.articles_url,
        "PARLEY_REDIS_URL": container.settings.redis_url,
        "PARLEY_SECRET_KEY": "test-secret",
        "PYTHON_AKISMET_API_KEY": "",
        "PYTHON_AKISMET_BLOG_URL": "",
    }

    def run(*args, **extra_env):
        return CliRunner().invoke(
            parley_main, list(args), env={**env, **extra_env}, catch_exceptions=False
        )

    return run
