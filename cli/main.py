"""The ``parley`` command: migrations, seeding and operators' tasks."""

from __future__ import annotations

import json
import socket
import sys
from datetime import UTC, datetime

import click

from cli.accounts import add_moderator, ensure_demo_admin
from cli.base import container
from cli.evaluate import evaluate
from cli.imports import import_
from cli.train import train
from shared.events import TYPES as EVENT_TYPES


@click.group()
def main() -> None:
    """Parley comment moderation: operators' commands."""


@main.command()
def migrate() -> None:
    """Create or upgrade the schema of both stores."""
    from shared.migrate import upgrade

    settings = container().settings
    upgrade(settings.database_url, settings.articles_url)
    click.echo("migrated: moderation store and article store are at head")


@main.command("seed-demo")
def seed_demo() -> None:
    """Register the demo article (idempotent)."""
    from shared.articles import DEMO_ARTICLE, DEMO_SLUG, upsert_article
    from shared.db import session_scope

    parley = container()
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
    with session_scope(container().stores.articles) as session:
        _, created = upsert_article(session, slug, fields)
    click.echo(f"article {slug} {'created' if created else 'updated'}")


# --- operators' commands ---------------------------------------------------------------


def _fail_if_unqueued(what: str, found: int, queued: int) -> None:
    if queued < found:
        raise click.ClickException(
            f"only {queued} of {found} {what} could be queued: is Redis reachable "
            "(PARLEY_REDIS_URL)? The sweeper will queue the rest once it is."
        )


@main.command()
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Every comment held for an Akismet error, due or not (after fixing the key or an outage).",
)
def recheck(everything: bool) -> None:
    """Queue the Akismet rechecks that are due now (or all of them with --all)."""
    from shared import taskqueue
    from shared.moderation import maintenance

    parley = container()
    if not everything:
        done = maintenance.queue_rechecks(parley)
        click.echo(f"rechecks due: {done['due']}, queued: {done['queued']}")
        _fail_if_unqueued("rechecks", done["due"], done["queued"])
        return
    ids = _make_rechecks_due(parley)
    click.echo(f"comments held for an Akismet error: {len(ids)}")
    with click.progressbar(ids, label="queueing rechecks", file=sys.stderr) as bar:
        queued = sum(parley.queue.send(taskqueue.CHECK, cid, True) for cid in bar)
    click.echo(f"queued: {queued}")
    _fail_if_unqueued("rechecks", len(ids), queued)


def _make_rechecks_due(parley) -> list[str]:
    """Ids of every comment held for an Akismet error, with their next check set to now."""
    from sqlalchemy import select, update

    from shared.db import session_scope
    from shared.models import Comment, utcnow

    with parley.stores.moderation_read() as session:
        rows = session.execute(
            select(Comment.id, Comment.akismet).where(Comment.status == "held")
        ).all()
    ids = [row.id for row in rows if (row.akismet or {}).get("verdict") == "error"]
    now = utcnow()
    for start in range(0, len(ids), 500):
        with session_scope(parley.stores.moderation) as session:
            session.execute(
                update(Comment)
                .where(Comment.id.in_(ids[start : start + 500]), Comment.status == "held")
                .values(akismet_next_check_at=now)
                .execution_options(synchronize_session=False)
            )
    return ids


@main.command()
def purge() -> None:
    """Delete spam and discarded comments past their retention, now."""
    from shared.moderation import maintenance

    counts = maintenance.purge(container())
    click.echo(f"purged: {counts.get('spam', 0)} spam, {counts.get('discarded', 0)} discarded")


@main.command()
def sweep() -> None:
    """Re-queue comments stored but never queued, stuck in a crashed check, or unpublished,
    after writing the received events that Redis missed."""
    from shared.moderation import maintenance

    done = maintenance.sweep(container())
    click.echo(
        f"events written: {done['announced']}, to check: {done['check']}, "
        f"to publish: {done['publish']}, queued: {done['queued']}"
    )
    _fail_if_unqueued("comments", done["check"] + done["publish"], done["queued"])


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of a table.")
def stats(as_json: bool) -> None:
    """Queue depths, comments by status, oldest unchecked age and live workers."""
    from shared.ops import collector, heartbeat

    parley = container()
    try:
        depths = collector.queue_depths(parley.redis)
        workers = heartbeat.workers(parley.redis)
    except Exception as exc:
        raise click.ClickException(
            f"Redis unreachable ({parley.settings.redis_url}): {exc}"
        ) from None
    try:
        counts = collector.comment_counts(parley)
        age = collector.oldest_unchecked_age(parley)
    except Exception as exc:
        raise click.ClickException(f"database unreachable: {str(exc).splitlines()[0]}") from None
    data = {
        "queue_depth": depths,
        "comments": counts,
        "oldest_unchecked_age_seconds": round(age, 1),
        "workers": workers,
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    rows = [("queue", "depth")] + [(q, str(n)) for q, n in depths.items()]
    rows += [("", ""), ("status", "comments")] + [(s, str(n)) for s, n in counts.items()]
    rows += [("", ""), ("oldest unchecked", _age(age))]
    rows += [("", ""), ("worker", "state")] + (
        [
            (
                w["name"],
                f"{'alive' if w['alive'] else 'gone'}, {w['active']} active, seen {w['last_seen']}",
            )
            for w in workers
        ]
        or [("(none seen in the last hour)", "")]
    )
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        click.echo(f"{name:<{width}}  {value}".rstrip())


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class _Moment(click.ParamType):
    """An ISO 8601 time; without a zone it is UTC."""

    name = "ISO-TIME"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time, e.g. 2025-05-16T09:30:00Z", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@main.command("replay-events")
@click.option("--since", required=True, type=_Moment(), help="Start (inclusive), ISO 8601.")
@click.option(
    "--until", type=_Moment(), default=None, help="End (inclusive), ISO 8601; default now."
)
@click.option(
    "--type",
    "type_",
    type=click.Choice(sorted(EVENT_TYPES)),
    default=None,
    help="Only events of this type.",
)
def replay_events(since: datetime, until: datetime | None, type_: str | None) -> None:
    """Print the events of parley:events between two times, one JSON object per line."""
    from shared.events import STREAM

    until = until or datetime.now(UTC)
    if since > until:
        raise click.BadParameter("must not be after --until", param_hint="--since")
    parley = container()
    start, end = str(int(since.timestamp() * 1000)), str(int(until.timestamp() * 1000))
    shown = 0
    try:
        while True:
            batch = parley.redis.xrange(STREAM, min=start, max=end, count=1000)
            for entry_id, fields in batch:
                if type_ is None or fields.get("type") == type_:
                    click.echo(json.dumps({"id": entry_id, **fields}))
                    shown += 1
            if len(batch) < 1000:
                break
            start = "(" + batch[-1][0]
    except Exception as exc:
        raise click.ClickException(
            f"Redis unreachable ({parley.settings.redis_url}): {exc}"
        ) from None
    click.echo(f"{shown} event(s)", err=True)


@main.command("worker-health")
@click.option(
    "--name", default=None, help="Worker name (celery@host); default: any worker on this host."
)
def worker_health(name: str | None) -> None:
    """Exit 0 if the worker has a fresh heartbeat in Redis, else 1 (for health checks)."""
    from shared.ops import heartbeat

    parley = container()
    host = socket.gethostname()
    try:
        found = [
            w
            for w in heartbeat.workers(parley.redis)
            if w["alive"]
            and (w["name"] == name if name else heartbeat.matches_host(w["name"], host))
        ]
    except Exception as exc:
        click.echo(f"unhealthy: Redis unreachable: {exc}", err=True)
        sys.exit(1)
    if not found:
        click.echo(f"unhealthy: no fresh heartbeat for {name or 'a worker on ' + host}", err=True)
        sys.exit(1)
    for worker in found:
        click.echo(
            f"healthy: {worker['name']} ({worker['active']} active, seen {worker['last_seen']})"
        )


# The dashboard's account commands, kept in a module of their own.
main.add_command(add_moderator)
main.add_command(ensure_demo_admin)
# The learned classifier's commands (docs/contract.md §8).
main.add_command(evaluate)
main.add_command(train)
# Other systems' comments (docs/contract.md §8 parley import).
main.add_command(import_)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
