"""``parley train``: the learned classifier's examples and versions (docs/contract.md §8)."""

from __future__ import annotations

import sys

import click

from cli.base import container


@click.group()
def train() -> None:
    """The learned classifier: import labelled examples, train now."""


@train.command("import")
@click.argument("file")
def import_examples(file: str) -> None:
    """Store a labelled CSV's rows (text,label) as examples; a row stored before is skipped."""
    from shared.classifier.dataset import BadFile, read
    from shared.classifier.store import import_rows
    from shared.db import session_scope

    try:
        rows = read(file)
    except BadFile as exc:
        click.echo(f"parley train import: {file}: {exc}", err=True)
        sys.exit(2)
    parley = container()
    with session_scope(parley.stores.moderation) as session:  # one transaction
        added, skipped = import_rows(session, rows)
    spam = sum(row.label for row in rows)
    click.echo(
        f"{file}: {len(rows)} rows ({len(rows) - spam} ham, {spam} spam): "
        f"{added} examples stored, {skipped} already stored or repeated"
    )


@train.command("now")
def train_now() -> None:
    """Train a new version now (beat does when enough labels are new)."""
    from shared.classifier.training import retrain

    done = retrain(container(), force=True)
    if not done["trained"]:
        raise click.ClickException(f"not trained: {done}")
    click.echo(
        f"classifier version {done['version']}: {done['ham']} ham, {done['spam']} spam, "
        f"{done['seconds']} s"
    )
