"""The public comment API and the demo article page (docs/contract.md §3)."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from services import http, ratelimit
from services.admin_api import admin_api
from services.api.embed import embed
from services.api.mail import mail_pages
from services.api.pages import pages
from services.api.reports import reader_reports
from services.api.views import public_api
from services.privacy_api import privacy_api
from services.webhooks_api import webhooks_api
from shared.bootstrap import Container, bootstrap


class NoSessions(SecureCookieSessionInterface):
    """The public API (with the admin API when PARLEY_ADMIN_API_ON_PUBLIC=1) and the demo
    page keep no cookie session (the form carries a signed token instead): do not build a
    signed session for every request."""

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response):
        return None


def create_app(parley: Container | None = None) -> Flask:
    """App factory; gunicorn runs ``services.api:create_app()``."""
    parley = parley or bootstrap()
    settings = parley.settings
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_body_bytes,
    )
    app.session_interface = NoSessions()
    http.install(app, parley)
    app.extensions["parley_limiter"] = ratelimit.SubmissionLimiter(settings)
    app.extensions["parley_report_limiter"] = ratelimit.ReportLimiter(settings)
    app.register_blueprint(public_api)
    app.register_blueprint(reader_reports)
    if settings.admin_api_on_public:
        # The dashboard's (docs/contract.md §1); here only when asked, otherwise a 404 as
        # for any path the api does not have: the public port carries no private data.
        app.register_blueprint(admin_api)
        app.register_blueprint(privacy_api)
        app.register_blueprint(webhooks_api)
    app.register_blueprint(pages)
    app.register_blueprint(mail_pages)
    app.register_blueprint(embed)
    if settings.cors_origins:
        from flask_cors import CORS

        CORS(
            app,
            resources={
                r"/api/v1/articles/*": {"origins": list(settings.cors_origins)},
                # Reader reports from the widget (docs/contract.md §3).
                r"/api/v1/comments/[^/]+/reports$": {"origins": list(settings.cors_origins)},
            },
            # The widget's (GET /embed.js) own headers and methods, nothing more.
            methods=["GET", "HEAD", "POST", "OPTIONS"],
            allow_headers=["Content-Type", "Idempotency-Key", "Commenter-Token"],
            expose_headers=["Location", "Retry-After", "ETag", "X-Request-ID"],
            max_age=600,
        )
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    return app
