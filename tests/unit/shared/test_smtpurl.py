"""PARLEY_SMTP_URL (docs/contract.md §2): the parser, with properties over generated URLs."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.config import SettingsError, load_settings
from shared.mail.smtpurl import SmtpTarget, SmtpUrlError, parse_smtp_url

hosts = st.one_of(
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]{1,10}){0,3}", fullmatch=True),
    st.ip_addresses(v=4).map(str),
)
secrets = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40)


@given(
    scheme=st.sampled_from(["smtp", "smtps", "SMTP"]),
    host=hosts,
    port=st.one_of(st.none(), st.integers(1, 65535)),
    user=st.one_of(st.none(), secrets),
    password=st.one_of(st.none(), secrets),
)
def test_a_url_built_from_parts_parses_back_to_them(scheme, host, port, user, password):
    if user is None:
        password = None
    userinfo = ""
    if user is not None:
        userinfo = quote(user, safe="")
        if password is not None:
            userinfo += ":" + quote(password, safe="")
        userinfo += "@"
    url = f"{scheme}://{userinfo}{host}" + (f":{port}" if port else "")
    target = parse_smtp_url(url)
    default = 465 if scheme.lower() == "smtps" else 587
    assert target == SmtpTarget(scheme.lower(), host.lower(), port or default, user, password)
    assert target.implicit_tls is (scheme.lower() == "smtps")
    # Shown without its password, for logs and pages.
    named = f"{user}@" if user else ""
    assert target.shown() == f"{scheme.lower()}://{named}{host.lower()}:{port or default}"


@given(st.text(max_size=80))
def test_any_text_parses_or_is_refused_with_a_message(text):
    try:
        target = parse_smtp_url(text)
    except SmtpUrlError as exc:
        assert str(exc)
    else:
        assert target.scheme in ("smtp", "smtps") and target.host
        assert 1 <= target.port <= 65535


@pytest.mark.parametrize(
    "url",
    [
        "",
        "mail.example",
        "http://mail.example",
        "smtp://",
        "smtp://:pw@mail.example",
        "smtp://mail.example:0",
        "smtp://mail.example:70000",
        "smtp://mail.example:twenty",
        "smtp://mail.example/path",
        "smtp://mail.example?starttls=no",
        "smtp://mail example",
        "smtp://mail.example\n",
    ],
)
def test_bad_urls_are_refused(url):
    with pytest.raises(SmtpUrlError):
        parse_smtp_url(url + ("x" if url.endswith("\n") else ""))


def test_settings_name_the_variable_and_hide_the_password():
    with pytest.raises(SettingsError) as caught:
        load_settings({"PARLEY_SMTP_URL": "smtp://user:hunter2@mail.example:99999"})
    message = str(caught.value)
    assert "PARLEY_SMTP_URL" in message and "hunter2" not in message
    settings = load_settings({"PARLEY_SMTP_URL": "smtps://u:p%40ss@mail.example"})
    assert settings.mail_configured and parse_smtp_url(settings.smtp_url).password == "p@ss"
    defaults = load_settings({})
    assert not defaults.mail_configured
    assert defaults.mail_from == "Parley <parley@localhost>"
    assert defaults.moderator_digest_minutes == 60


@pytest.mark.parametrize(
    "env",
    [
        {"PARLEY_MAIL_FROM": "not an address"},
        {"PARLEY_MAIL_FROM": "Parley <parley@news.example>\r\nBcc: x@y.z"},
        {"PARLEY_MODERATOR_DIGEST_MINUTES": "0"},
        {"PARLEY_MODERATOR_DIGEST_MINUTES": "soon"},
        {"PARLEY_DASHBOARD_URL": "moderate.example"},
    ],
)
def test_other_mail_settings_are_checked(env):
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert next(iter(env)) in str(caught.value)
