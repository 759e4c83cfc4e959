"""Settings parsing: every docs/contract.md §2 variable, defaults and clear errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.config import ENV_VARS, SettingsError, load_settings, settings_env

CONTRACT_VARS = [
    "PARLEY_DATABASE_URL",
    "PARLEY_ARTICLE_STORE_URL",
    "PARLEY_REDIS_URL",
    "PARLEY_SECRET_KEY",
    "PARLEY_ADMIN_TOKEN",
    "PYTHON_AKISMET_API_KEY",
    "PYTHON_AKISMET_BLOG_URL",
    "PARLEY_AKISMET_API_URL",
    "PARLEY_AKISMET_TIMEOUT",
    "PARLEY_AKISMET_RECHECK_SECONDS",
    "PARLEY_SWEEP_SECONDS",
    "PARLEY_RATE_LIMIT",
    "PARLEY_FLOOD_SECONDS",
    "PARLEY_MAX_LINKS",
    "PARLEY_TRUSTED_PROXIES",
    "PARLEY_CORS_ORIGINS",
]


def test_every_contract_variable_is_read():
    assert set(CONTRACT_VARS) <= set(ENV_VARS)


def test_defaults_match_the_contract():
    s = load_settings({})
    assert s.database_url == "sqlite:///var/parley.db"
    assert s.articles_url == s.database_url
    assert s.redis_url == "redis://127.0.0.1:6379/0"
    assert s.admin_token is None
    assert s.akismet_configured is False
    assert s.akismet_api_url == "https://rest.akismet.com"
    assert (s.akismet_timeout, s.akismet_recheck_seconds, s.sweep_seconds) == (5.0, 1200, 60)
    assert (s.rate_limit, s.flood_seconds, s.max_links, s.trusted_proxies) == ("5/minute", 15, 2, 0)
    assert s.cors_origins == ()
    assert len(s.secret_key) >= 32  # random per start in development


def test_values_are_parsed():
    s = load_settings(
        {
            "PARLEY_ARTICLE_STORE_URL": "postgresql://db/articles",
            "PARLEY_AKISMET_TIMEOUT": "2.5",
            "PARLEY_CORS_ORIGINS": "https://a.example, https://b.example",
            "PARLEY_RATE_LIMIT": "off",
            "PYTHON_AKISMET_API_KEY": "k",
            "PYTHON_AKISMET_BLOG_URL": "https://news.example",
            "PARLEY_TRUSTED_PROXIES": "1",
            "PARLEY_SECRET_KEY": "s3cret",
        }
    )
    assert s.articles_url == "postgresql://db/articles"
    assert s.akismet_timeout == 2.5 and s.akismet_configured
    assert s.cors_origins == ("https://a.example", "https://b.example")
    assert s.rate_limit == "off" and s.trusted_proxies == 1 and s.secret_key == "s3cret"


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("PARLEY_AKISMET_TIMEOUT", "soon"),
        ("PARLEY_AKISMET_TIMEOUT", "0"),
        ("PARLEY_MAX_LINKS", "0"),
        ("PARLEY_FLOOD_SECONDS", "-1"),
        ("PARLEY_RATE_LIMIT", "lots"),
        ("PARLEY_DATABASE_URL", "parley.db"),
        ("PARLEY_TRUSTED_PROXIES", "many"),
        ("PARLEY_INTAKE_WRITER", "fork"),
    ],
)
def test_bad_values_name_the_variable(var, value):
    with pytest.raises(SettingsError) as err:
        load_settings({var: value})
    assert var in str(err.value) and repr(value) in str(err.value)


def test_production_requires_a_secret_key():
    with pytest.raises(SettingsError, match="PARLEY_SECRET_KEY"):
        load_settings({"PARLEY_ENV": "production"})


def test_settings_are_frozen():
    s = load_settings({})
    with pytest.raises(ValidationError):
        s.max_links = 5


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {
            "PARLEY_ENV": "production",
            "PARLEY_SECRET_KEY": "s3cret",
            "PARLEY_ADMIN_TOKEN": "t0ken",
            "PARLEY_ARTICLE_STORE_URL": "postgresql://db/articles",
            "PARLEY_AKISMET_TIMEOUT": "2.5",
            "PARLEY_CORS_ORIGINS": "https://a.example,https://b.example",
            "PARLEY_RATE_LIMIT": "10 per hour",
            "PYTHON_AKISMET_API_KEY": "k",
            "PYTHON_AKISMET_BLOG_URL": "https://news.example",
            "PARLEY_HOLD_THRESHOLD": "0.5",
            "PARLEY_INTAKE_WRITER": "thread",
        },
    ],
)
def test_settings_env_gives_the_same_settings_to_a_child_process(environ):
    # The intake writer process is started with this environment; a random development
    # secret key is carried over too.
    settings = load_settings(environ)
    assert load_settings(settings_env(settings)) == settings


def test_settings_env_covers_every_setting():
    assert set(ENV_VARS.values()) == set(load_settings({}).model_dump())
