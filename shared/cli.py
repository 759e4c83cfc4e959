"""The ``parley`` command: migrations, seeding and operators' tasks."""

from __future__ import annotations

import sys

import click

from shared.bootstrap import bootstrap
from shared.config import SettingsError


def _container():
    try:
        return bootstrap()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def main() -> None:
    """Parley comment moderation: operators' commands."""


@main.command()
def migrate() -> None:
    """Create or upgrade the schema of both stores."""
    from shared.migrate import upgrade

    settings = _container().settings
    upgrade(settings.database_url, settings.articles_url)
    click.echo("migrated: moderation store and article store are at head")


@main.command("seed-demo")
def seed_demo() -> None:
    """Register the demo article (idempotent)."""
    from shared.articles import DEMO_ARTICLE, DEMO_SLUG, upsert_article
    from shared.db import session_scope

    parley = _container()
    fields = dict(DEMO_ARTICLE, url=parley.settings.site_url.rstrip("/") + "/articles/" + DEMO_SLUG)
    with session_scope(parley.stores.articles) as session:
        _, created = upsert_article(session, DEMO_SLUG, fields)
    click.echo(f"demo article {'created' if created else 'up to date'}: {fields['url']}")


@main.command("add-article")
@click.argument("slug")
@click.option("--title", required=True)
@click.option("--url", required=True)
@click.option("--closed", is_flag=True, help="Register with comments closed.")
def add_article(slug: str, title: str, url: str, closed: bool) -> None:
    """Register or update an article."""
    from shared.articles import upsert_article, valid_slug, validate_article
    from shared.db import session_scope

    if not valid_slug(slug):
        raise click.ClickException("slug may hold letters, digits, '-', '_' and '.'")
    fields, errors = validate_article({"title": title, "url": url, "comments_open": not closed})
    if errors:
        raise click.ClickException("; ".join(f"{k} {', '.join(v)}" for k, v in errors.items()))
    with session_scope(_container().stores.articles) as session:
        _, created = upsert_article(session, slug, fields)
    click.echo(f"article {slug} {'created' if created else 'updated'}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
