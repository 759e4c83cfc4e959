"""``parley import wordpress|disqus FILE.xml``: another system's comments into Parley
(docs/contract.md §8). The work is shared.imports'; this shows its progress and summary."""

from __future__ import annotations

import sys
import time

import click

from cli.base import container


class _Progress:
    """A progress bar on a terminal, a plain line every few seconds otherwise (logs)."""

    EVERY = 5.0  # seconds between plain lines

    def __init__(self, label: str):
        self.label = label
        self.tty = sys.stderr.isatty()
        self.bar = None
        self.done = self.total = 0
        self.last = time.monotonic()

    def scan(self, position: int, size: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.EVERY:
            self.last = now
            click.echo(f"checking the file: {100 * position // max(size, 1)}%", err=True)

    def start(self, total: int) -> None:
        self.total = total
        click.echo(f"{self.label}: {total:,} comments in the file", err=True)
        if self.tty:
            self.bar = click.progressbar(length=max(total, 1), label="importing", file=sys.stderr)
            self.bar.__enter__()

    def step(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
            return
        now = time.monotonic()
        if now - self.last >= self.EVERY or self.done >= self.total:
            self.last = now
            click.echo(f"imported {self.done:,} of {self.total:,} comments", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _import(format_: str, file: str) -> None:
    from shared.imports.run import BadFile, run

    parley = container()
    progress = _Progress(f"{format_} export {file}")
    try:
        summary, seconds = run(
            parley,
            format_,
            file,
            on_scan=progress.scan,
            on_start=progress.start,
            on_progress=progress.step,
        )
    except BadFile as exc:
        progress.close()
        click.echo(f"parley import {format_}: {file}: {exc}; nothing was imported", err=True)
        sys.exit(2)
    finally:
        progress.close()
    stored = sum(summary.comments.values())
    by_status = ", ".join(
        f"{summary.comments.get(status, 0):,} {status}"
        for status in ("published", "held", "spam", "rejected")
    )
    click.echo(
        f"articles: {summary.articles_created:,} created, "
        f"{summary.articles_existing:,} already registered (kept as they are)"
    )
    if summary.titles_kept:
        click.echo(
            f"  {summary.titles_kept:,} of those have another title in the file; Parley's "
            f"title is kept (e.g. {', '.join(summary.titles_kept_slugs[:5])})"
        )
    click.echo(f"comments: {stored:,} imported ({by_status})")
    click.echo(f"  {summary.duplicates:,} already imported (skipped)")
    skipped = sum(summary.skipped.values())
    reasons = ", ".join(f"{n:,} {why}" for why, n in summary.skipped.most_common())
    click.echo(f"  {skipped:,} skipped" + (f": {reasons}" if reasons else ""))
    if summary.orphans:
        click.echo(f"  {summary.orphans:,} replies whose parent is not stored are top-level")
    click.echo(f"classifier examples: {summary.examples:,} (published as ham, spam as spam)")
    pending = summary.events - summary.events_relayed
    click.echo(
        f"events: {summary.events:,} comment.published"
        + (f" ({pending:,} wait for the periodic relay: is Redis up?)" if pending else "")
    )
    rate = stored / seconds if seconds else 0
    click.echo(f"took {seconds:.1f} s ({rate:,.0f} comments/s)")


@click.group("import")
def import_() -> None:
    """Bring comments from WordPress or Disqus (idempotent: a rerun adds nothing)."""


@import_.command("wordpress")
@click.argument("file", type=click.Path(dir_okay=False))
def wordpress(file: str) -> None:
    """Import a WordPress export (WXR: Tools > Export > All content)."""
    _import("wordpress", file)


@import_.command("disqus")
@click.argument("file", type=click.Path(dir_okay=False))
def disqus(file: str) -> None:
    """Import a Disqus export (Admin > Moderate > Export, uncompressed)."""
    _import("disqus", file)
