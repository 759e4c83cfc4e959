"""``parley add-moderator`` and ``parley ensure-demo-admin``: dashboard accounts from a shell.

Registered in the ``parley`` group by :mod:`cli.main`; kept apart so that module does
not grow with every command.
"""

from __future__ import annotations

import sys

import click

from cli.base import container
from shared import accounts
from shared.db import session_scope


@click.command("add-moderator")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(accounts.ROLES),
    default="moderator",
    show_default=True,
    help="admin also manages moderators, lists and settings.",
)
@click.option(
    "--password",
    envvar="PARLEY_NEW_MODERATOR_PASSWORD",
    default=None,
    help="Default: asked for on a terminal, else generated and printed once.",
)
def add_moderator(email: str, role: str, password: str | None) -> None:
    """Add a dashboard account."""
    generated = False
    if password is None:
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password, generated = accounts.generate_password(), True
    parley = container()
    try:
        with session_scope(parley.stores.moderation) as session:
            moderator = accounts.register_moderator(
                session, email, password, role, "cli", via="add-moderator"
            )
            email = moderator.email
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        parley.close()
    click.echo(f"{role} {email} added")
    if generated:
        click.echo(f"Dashboard login: {email} / {password}")


@click.command("ensure-demo-admin")
def ensure_demo_admin() -> None:
    """Create the first admin (PARLEY_ADMIN_EMAIL) if there is no account yet; print its login once."""
    parley = container()
    settings = parley.settings
    try:
        with session_scope(parley.stores.moderation) as session:
            password = accounts.ensure_demo_admin(
                session, settings.admin_email, settings.admin_password
            )
    except accounts.AccountError as exc:
        raise click.ClickException(f"PARLEY_ADMIN_EMAIL / PARLEY_ADMIN_PASSWORD: {exc}") from None
    finally:
        parley.close()
    email = accounts.normalise_email(settings.admin_email)
    if password is None:
        click.echo("dashboard: accounts exist already; none created")
    elif settings.admin_password:
        click.echo(f"Dashboard login: {email} / (the password in PARLEY_ADMIN_PASSWORD)")
    else:
        click.echo(f"Dashboard login: {email} / {password}")
