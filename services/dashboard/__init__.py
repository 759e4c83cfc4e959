"""The moderators' dashboard (/admin/), the admin JSON API and /metrics (docs/contract.md §1)."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from services import http
from services.admin_api import admin_api
from services.dashboard import security, templating
from services.dashboard.activity import activity_pages
from services.dashboard.apidoc import apidoc
from services.dashboard.articles import article_pages
from services.dashboard.auth import auth
from services.dashboard.mail import mail_pages
from services.dashboard.ops import ops_pages
from services.dashboard.privacy import privacy_pages
from services.dashboard.quality import quality_pages
from services.dashboard.queue import queue_pages
from services.dashboard.reported import reported_pages
from services.dashboard.settings import settings_pages
from services.dashboard.webhooks import webhook_pages
from services.metrics_view import metrics_view
from services.privacy_api import privacy_api
from services.webhooks_api import webhooks_api
from shared.accounts import SESSION_LIFETIME
from shared.bootstrap import Container, bootstrap
from shared.throttle import LoginThrottle


def create_app(parley: Container | None = None) -> Flask:
    """App factory; gunicorn runs ``services.dashboard:create_app()``."""
    parley = parley or bootstrap()
    settings = parley.settings
    app = Flask(__name__, static_url_path="/admin/static")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=1024 * 1024,
        # A dashboard session ends this long after sign-in, however much it is used.
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    http.install(app, parley)
    app.extensions["parley_login_throttle"] = LoginThrottle(settings.redis_url)
    security.install(app, settings, exempt=[admin_api, privacy_api, webhooks_api])
    templating.install(app)
    app.register_blueprint(admin_api)
    app.register_blueprint(privacy_api)
    app.register_blueprint(webhooks_api)
    app.register_blueprint(privacy_pages)
    for blueprint in (auth, queue_pages, settings_pages, activity_pages, ops_pages, quality_pages):
        app.register_blueprint(blueprint)
    app.register_blueprint(article_pages)
    app.register_blueprint(reported_pages)
    app.register_blueprint(webhook_pages)
    app.register_blueprint(mail_pages)
    app.register_blueprint(metrics_view)
    app.register_blueprint(apidoc)
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    return app
