"""Moderators' accounts: password hashing, authentication, the CLI commands, throttling."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from cli.accounts import add_moderator, ensure_demo_admin
from shared import accounts
from shared.db import session_scope
from shared.throttle import LoginThrottle

PASSWORD = "correct horse battery staple"


@pytest.mark.parametrize(
    "email", ["", "no-at-sign", "@example.org", "a@", "a b@example.org", "x" * 250 + "@e.org"]
)
def test_bad_emails(email):
    with pytest.raises(accounts.AccountError, match="e-mail"):
        accounts.check_email(email)


def test_email_normalised():
    assert accounts.check_email("  Ada@Example.ORG ") == "ada@example.org"


@pytest.mark.parametrize("password", ["", "short", "x" * 9, "x" * 1025])
def test_bad_passwords(password):
    with pytest.raises(accounts.AccountError, match="password"):
        accounts.check_password(password)


def test_bad_role():
    with pytest.raises(accounts.AccountError, match="role must be one of: admin, moderator"):
        accounts.check_role("root")


def test_hash_is_argon2id_and_never_the_password():
    digest = accounts.hash_password(PASSWORD)
    assert digest.startswith("$argon2id$") and PASSWORD not in digest
    assert accounts.hash_password(PASSWORD) != digest  # salted


def test_generated_passwords_are_long_and_random():
    a, b = accounts.generate_password(), accounts.generate_password()
    assert a != b and len(a) >= 20


def test_create_and_authenticate(container):
    with session_scope(container.stores.moderation) as session:
        moderator = accounts.create_moderator(session, "Mod@Example.org", PASSWORD, "moderator")
        assert moderator.email == "mod@example.org" and not moderator.is_admin
        with pytest.raises(accounts.AccountError, match="already exists"):
            accounts.create_moderator(session, "MOD@example.org", PASSWORD)
    with session_scope(container.stores.moderation) as session:
        assert accounts.authenticate(session, "mod@example.org", "wrong password") is None
        assert accounts.authenticate(session, "nobody@example.org", PASSWORD) is None
        assert accounts.authenticate(session, "mod@example.org", "x" * 5000) is None
        found = accounts.authenticate(session, " MOD@example.org", PASSWORD)
        assert found is not None and found.last_login_at is not None
        found.disabled = True
    with session_scope(container.stores.moderation) as session:
        assert accounts.authenticate(session, "mod@example.org", PASSWORD) is None


def test_old_hash_parameters_are_upgraded_on_login(container):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    with session_scope(container.stores.moderation) as session:
        moderator = accounts.create_moderator(session, "old@example.org", PASSWORD)
        moderator.password_hash = weak.hash(PASSWORD)
    with session_scope(container.stores.moderation) as session:
        accounts.authenticate(session, "old@example.org", PASSWORD)
    with container.stores.moderation() as session:
        upgraded = accounts.find_moderator(session, "old@example.org").password_hash
    assert "m=8192" not in upgraded and not PasswordHasher().check_needs_rehash(upgraded)


def test_last_admin_is_kept(container):
    with session_scope(container.stores.moderation) as session:
        admin = accounts.create_moderator(session, "a@example.org", PASSWORD, "admin")
        with pytest.raises(accounts.AccountError, match="last enabled admin"):
            accounts.update_moderator(session, admin.id, disabled=True)
        with pytest.raises(accounts.AccountError, match="last enabled admin"):
            accounts.update_moderator(session, admin.id, role="moderator")
        accounts.create_moderator(session, "b@example.org", PASSWORD, "admin")
        assert accounts.update_moderator(session, admin.id, role="moderator").role == "moderator"


def _env(container, **extra) -> dict:
    settings = container.settings
    return {
        "PARLEY_DATABASE_URL": settings.database_url,
        "PARLEY_ARTICLE_STORE_URL": settings.articles_url,
        "PARLEY_REDIS_URL": settings.redis_url,
        "PARLEY_ENV": "test",
        "PARLEY_ADMIN_PASSWORD": "",
        "PARLEY_ADMIN_EMAIL": "",
        **extra,
    }


def test_ensure_demo_admin_creates_once_and_prints_the_login_once(container):
    runner = CliRunner()
    first = runner.invoke(ensure_demo_admin, env=_env(container))
    assert first.exit_code == 0, first.output
    email, password = re.fullmatch(r"Dashboard login: (\S+) / (\S+)\n", first.output).groups()
    assert email == "admin@example.com"
    with session_scope(container.stores.moderation) as session:
        assert accounts.authenticate(session, email, password).role == "admin"
    second = runner.invoke(ensure_demo_admin, env=_env(container))
    assert second.exit_code == 0 and password not in second.output
    assert second.output == "dashboard: accounts exist already; none created\n"


def test_ensure_demo_admin_with_configured_password(container):
    env = _env(
        container,
        PARLEY_ADMIN_EMAIL="Boss@News.example",
        PARLEY_ADMIN_PASSWORD="a configured secret",
    )
    result = CliRunner().invoke(ensure_demo_admin, env=env)
    assert result.exit_code == 0 and "a configured secret" not in result.output
    assert result.output.startswith("Dashboard login: boss@news.example / ")
    with session_scope(container.stores.moderation) as session:
        assert (
            accounts.authenticate(session, "boss@news.example", "a configured secret") is not None
        )


def test_ensure_demo_admin_leaves_existing_accounts_alone(container):
    with session_scope(container.stores.moderation) as session:
        accounts.create_moderator(session, "someone@example.org", PASSWORD, "moderator")
    result = CliRunner().invoke(ensure_demo_admin, env=_env(container))
    assert result.exit_code == 0 and "Dashboard login" not in result.output
    with container.stores.moderation() as session:
        assert accounts.moderator_count(session) == 1


def test_add_moderator_command(container):
    runner = CliRunner()
    given = runner.invoke(
        add_moderator,
        ["Ann@Example.org", "--role", "admin", "--password", PASSWORD],
        env=_env(container),
    )
    assert given.exit_code == 0 and given.output == "admin ann@example.org added\n"
    generated = runner.invoke(add_moderator, ["bob@example.org"], env=_env(container))
    assert generated.exit_code == 0
    password = re.search(r"Dashboard login: bob@example.org / (\S+)", generated.output).group(1)
    with session_scope(container.stores.moderation) as session:
        assert accounts.authenticate(session, "bob@example.org", password).role == "moderator"
        assert accounts.authenticate(session, "ann@example.org", PASSWORD).role == "admin"
    again = runner.invoke(
        add_moderator, ["ann@example.org", "--password", PASSWORD], env=_env(container)
    )
    assert again.exit_code == 1 and "already exists" in again.output
    weak = runner.invoke(
        add_moderator, ["cy@example.org", "--password", "weak"], env=_env(container)
    )
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output


def test_throttle_falls_back_to_memory_without_redis():
    # Port 1 refuses: every count goes to this process's memory, with the same limits.
    throttle = LoginThrottle(
        "redis://127.0.0.1:1/0", "2 per minute", "3 per minute", "4 per minute"
    )
    assert throttle.attempt("a@example.org", "192.0.2.1").taken
    assert throttle.attempt("a@example.org", "192.0.2.1").taken
    refused = throttle.attempt("A@example.org", "192.0.2.1")  # e-mails compare case-folded
    assert not refused.taken and 0 < refused.retry_after <= 60
    # The owner from another address is not locked out by that address's failures...
    owner = throttle.attempt("a@example.org", "192.0.2.99")
    assert owner.taken
    throttle.succeeded("a@example.org", "192.0.2.99", owner)
    # ...while the account's own limit across addresses still stops a spread guess.
    assert throttle.attempt("a@example.org", "192.0.2.50").taken
    assert not throttle.attempt("a@example.org", "192.0.2.51").taken
    # The address's limit across accounts: 4 in all from 192.0.2.1 (two counted above).
    assert throttle.attempt("b@example.org", "192.0.2.1").taken
    assert throttle.attempt("c@example.org", "192.0.2.1").taken
    assert not throttle.attempt("d@example.org", "192.0.2.1").taken
