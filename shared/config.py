"""Settings: read once from the environment into a frozen object that is passed down.

Every variable of the public contract (docs/contract.md §2) is here with its default. A bad value
raises :class:`SettingsError` naming the variable, the value and what was expected, so a
misconfigured process stops at start-up instead of misbehaving later.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Literal

from limits import parse_many
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.mail.smtpurl import SmtpUrlError, parse_smtp_url
from shared.sites.origins import NotAnOrigin, normalise_origin


class SettingsError(ValueError):
    """A configuration variable has a value Parley cannot use."""


class Settings(BaseModel):
    """All of Parley's configuration. Built by :func:`load_settings`; never mutated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    env: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite:///var/parley.db"
    article_store_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    secret_key: str = ""
    admin_token: str | None = None
    # Host sites sign their signed-in readers' addresses with it (shared.commenter); unset:
    # no author token is accepted, and the trusted-authors list earns nothing.
    author_token_secret: str | None = None
    # The admin JSON API is the dashboard's; the public api serves it only when asked
    # (docs/contract.md §1). Unset token: /metrics is open to whoever reaches the dashboard.
    admin_api_on_public: bool = False
    metrics_token: str | None = None

    akismet_api_key: str | None = None
    akismet_blog_url: str | None = None
    akismet_api_url: str = "https://rest.akismet.com"
    akismet_timeout: float = Field(5.0, gt=0, le=120)
    akismet_recheck_seconds: int = Field(1200, ge=1)
    akismet_retries: int = Field(2, ge=0, le=10)
    akismet_giveup_days: float = Field(15, gt=0)

    sweep_seconds: int = Field(60, ge=1)
    lease_seconds: int = Field(120, ge=5)
    rate_limit: str = "5/minute"
    flood_seconds: int = Field(15, ge=0)
    max_links: int = Field(2, ge=1)
    trusted_proxies: int = Field(0, ge=0, le=10)
    cors_origins: tuple[str, ...] = ()
    # Articles registered from their pages on first comment (shared.sites): the origins
    # whose pages may do so (empty: none, every article is registered by the site), how
    # long the page may take, and how many pages per origin Parley checks.
    site_origins: tuple[str, ...] = ()
    site_fetch_timeout: float = Field(3.0, gt=0, le=30)
    site_verify_limit: str = "30/minute"
    # Reader reports (shared.moderation.reports): distinct readers' reports that unpublish
    # and hold a comment, and how many reports one IP or reader may send.
    report_threshold: int = Field(3, ge=1, le=1000)
    report_rate_limit: str = "10/minute"

    hold_threshold: float = 1.0
    spam_threshold: float = 3.0
    min_form_seconds: float = Field(3.0, ge=0)
    duplicate_window_hours: float = Field(24, gt=0)
    spam_retention_days: float = Field(15, gt=0)
    discarded_retention_days: float = Field(1, gt=0)
    # Client IP, user agent, referrer and Accept-Language leave stored comments after this
    # (shared.privacy.retention).
    ip_retention_days: float = Field(30, gt=0, le=3650)
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    # Where the host's intake writer runs: a process of its own, or a thread of the api
    # process that won its election (shared/intake/committer.py).
    intake_writer: Literal["process", "thread"] = "process"
    # While the intake is saturated, a worker process checks one batch at a time and rests
    # this many times as long as the batch took (shared/intake/pressure.py); 0: never.
    check_yield: float = Field(3.0, ge=0, le=100)
    # The learned classifier (shared/classifier): on, trial (in the reasons, not counted) or
    # off; silent until it has this many labelled examples of each class; retrained by beat
    # once this many labels are new or changed since the current version.
    classifier: Literal["on", "trial", "off"] = "on"
    classifier_min_examples: int = Field(10, ge=1)
    classifier_retrain_every: int = Field(20, ge=1)
    blog_lang: str = "en"
    site_url: str = "http://127.0.0.1:8000"
    admin_email: str = "admin@example.com"
    admin_password: str | None = None
    # Mail (shared/mail): no PARLEY_SMTP_URL, no mail at all. Links in mails point at
    # site_url (the api: unsubscribe) and dashboard_url (the moderators' queues).
    smtp_url: str | None = None
    mail_from: str = "Parley <parley@localhost>"
    moderator_digest_minutes: float = Field(60, gt=0, le=7 * 24 * 60)
    mail_tick_seconds: float = Field(30, gt=0, le=3600)
    dashboard_url: str = "http://127.0.0.1:8001"

    # Webhooks (shared/webhooks, docs/contract.md §4): receivers on loopback, link-local or
    # private addresses only when allowed; each attempt has webhook_timeout seconds; retries
    # back off from webhook_retry_seconds (doubling, with jitter, at most an hour apart)
    # until webhook_deadline_hours; an endpoint whose last webhook_disable_after deliveries
    # all failed is disabled. Beat's tick re-queues what is due every webhook_tick_seconds.
    webhook_allow_private: bool = False
    webhook_timeout: float = Field(10.0, gt=0, le=60)
    webhook_retry_seconds: float = Field(10.0, gt=0, le=3600)
    webhook_deadline_hours: float = Field(24.0, gt=0, le=24 * 30)
    webhook_disable_after: int = Field(5, ge=1, le=10_000)
    webhook_tick_seconds: float = Field(5.0, gt=0, le=300)
    webhook_retention_days: float = Field(30.0, gt=0)

    @field_validator("database_url", "redis_url", "akismet_api_url")
    @classmethod
    def _url_has_scheme(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("must be a URL with a scheme, e.g. sqlite:///var/parley.db")
        return value

    @field_validator("rate_limit", "report_rate_limit", "site_verify_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        if value.strip().lower() == "off":
            return "off"
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError("must look like '5/minute' or '10 per hour', or be 'off'") from exc
        return value

    @field_validator("site_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return tuple(dict.fromkeys(normalise_origin(origin) for origin in value))
        except NotAnOrigin as exc:
            raise ValueError(
                f"{exc}; write comma-separated origins such as https://news.example"
            ) from None

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_smtp_url(value)
            except SmtpUrlError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("mail_from")
    @classmethod
    def _mail_from_is_an_address(cls, value: str) -> str:
        _, address = parseaddr(value)
        local, _, domain = address.partition("@")
        if any(ch in value for ch in "\r\n\0") or not local or not domain or " " in address:
            raise ValueError("must be an address, e.g. 'Parley <parley@news.example>'")
        return value

    @field_validator("dashboard_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @property
    def mail_configured(self) -> bool:
        """Whether Parley sends mail at all (``PARLEY_SMTP_URL`` set)."""
        return self.smtp_url is not None

    @property
    def articles_url(self) -> str:
        """URL of the article store; the moderation store's when not set apart."""
        return self.article_store_url or self.database_url

    @property
    def akismet_configured(self) -> bool:
        return bool(self.akismet_api_key and self.akismet_blog_url)


# Environment variable -> Settings field. Contract names first, then Parley's own extras.
ENV_VARS: dict[str, str] = {
    "PARLEY_ENV": "env",
    "PARLEY_DATABASE_URL": "database_url",
    "PARLEY_ARTICLE_STORE_URL": "article_store_url",
    "PARLEY_REDIS_URL": "redis_url",
    "PARLEY_SECRET_KEY": "secret_key",
    "PARLEY_ADMIN_TOKEN": "admin_token",
    "PARLEY_AUTHOR_TOKEN_SECRET": "author_token_secret",
    "PARLEY_ADMIN_API_ON_PUBLIC": "admin_api_on_public",
    "PARLEY_METRICS_TOKEN": "metrics_token",
    "PYTHON_AKISMET_API_KEY": "akismet_api_key",
    "PYTHON_AKISMET_BLOG_URL": "akismet_blog_url",
    "PARLEY_AKISMET_API_URL": "akismet_api_url",
    "PARLEY_AKISMET_TIMEOUT": "akismet_timeout",
    "PARLEY_AKISMET_RECHECK_SECONDS": "akismet_recheck_seconds",
    "PARLEY_AKISMET_RETRIES": "akismet_retries",
    "PARLEY_AKISMET_GIVEUP_DAYS": "akismet_giveup_days",
    "PARLEY_SWEEP_SECONDS": "sweep_seconds",
    "PARLEY_LEASE_SECONDS": "lease_seconds",
    "PARLEY_RATE_LIMIT": "rate_limit",
    "PARLEY_FLOOD_SECONDS": "flood_seconds",
    "PARLEY_MAX_LINKS": "max_links",
    "PARLEY_TRUSTED_PROXIES": "trusted_proxies",
    "PARLEY_CORS_ORIGINS": "cors_origins",
    "PARLEY_SMTP_URL": "smtp_url",
    "PARLEY_MAIL_FROM": "mail_from",
    "PARLEY_MODERATOR_DIGEST_MINUTES": "moderator_digest_minutes",
    "PARLEY_SITE_ORIGINS": "site_origins",
    "PARLEY_REPORT_THRESHOLD": "report_threshold",
    "PARLEY_CLASSIFIER": "classifier",
    "PARLEY_HOLD_THRESHOLD": "hold_threshold",
    "PARLEY_SPAM_THRESHOLD": "spam_threshold",
    "PARLEY_MIN_FORM_SECONDS": "min_form_seconds",
    "PARLEY_DUPLICATE_WINDOW_HOURS": "duplicate_window_hours",
    "PARLEY_SPAM_RETENTION_DAYS": "spam_retention_days",
    "PARLEY_DISCARDED_RETENTION_DAYS": "discarded_retention_days",
    "PARLEY_IP_RETENTION_DAYS": "ip_retention_days",
    "PARLEY_MAX_BODY_BYTES": "max_body_bytes",
    "PARLEY_REPORT_RATE_LIMIT": "report_rate_limit",
    "PARLEY_INTAKE_WRITER": "intake_writer",
    "PARLEY_CHECK_YIELD": "check_yield",
    "PARLEY_CLASSIFIER_MIN_EXAMPLES": "classifier_min_examples",
    "PARLEY_CLASSIFIER_RETRAIN_EVERY": "classifier_retrain_every",
    "PARLEY_SITE_FETCH_TIMEOUT": "site_fetch_timeout",
    "PARLEY_SITE_VERIFY_LIMIT": "site_verify_limit",
    "PARLEY_BLOG_LANG": "blog_lang",
    "PARLEY_SITE_URL": "site_url",
    "PARLEY_ADMIN_EMAIL": "admin_email",
    "PARLEY_ADMIN_PASSWORD": "admin_password",
    "PARLEY_WEBHOOK_ALLOW_PRIVATE": "webhook_allow_private",
    "PARLEY_WEBHOOK_TIMEOUT": "webhook_timeout",
    "PARLEY_WEBHOOK_RETRY_SECONDS": "webhook_retry_seconds",
    "PARLEY_WEBHOOK_DEADLINE_HOURS": "webhook_deadline_hours",
    "PARLEY_WEBHOOK_DISABLE_AFTER": "webhook_disable_after",
    "PARLEY_WEBHOOK_TICK_SECONDS": "webhook_tick_seconds",
    "PARLEY_WEBHOOK_RETENTION_DAYS": "webhook_retention_days",
    "PARLEY_DASHBOARD_URL": "dashboard_url",
    "PARLEY_MAIL_TICK_SECONDS": "mail_tick_seconds",
}
FIELD_TO_ENV = {field: var for var, field in ENV_VARS.items()}


def load_settings(environ: Mapping[str, str] | None = None, **overrides) -> Settings:
    """Build :class:`Settings` from ``environ`` (default ``os.environ``) plus ``overrides``.

    Empty variables count as unset. Raises :class:`SettingsError` with one line per bad
    variable.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for var, field in ENV_VARS.items():
        raw = environ.get(var)
        if raw is None or raw.strip() == "":
            continue
        raw = raw.strip()
        if field in ("cors_origins", "site_origins"):
            values[field] = tuple(o.strip() for o in raw.split(",") if o.strip())
        else:
            values[field] = raw
    values.update(overrides)
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            var = FIELD_TO_ENV.get(field, field)
            shown = values.get(field)
            if field == "smtp_url" and isinstance(shown, str):
                shown = re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", shown)  # the password
            lines.append(f"{var}={shown!r}: {err['msg']}")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from None
    if not settings.secret_key:
        if settings.env == "production":
            raise SettingsError("PARLEY_SECRET_KEY is required when PARLEY_ENV=production")
        # Development: a fresh random key per start (form tokens from before a restart
        # simply count as missing).
        settings = settings.model_copy(update={"secret_key": secrets.token_urlsafe(32)})
    return settings


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment variables that :func:`load_settings` reads back as ``settings``:
    how a process hands its exact settings (a random development secret key included) to
    a child process it starts."""
    env = {}
    for field, value in settings.model_dump().items():
        if value is None:
            continue
        if field in ("cors_origins", "site_origins"):
            value = ",".join(value)
        env[FIELD_TO_ENV[field]] = str(value)
    return env
