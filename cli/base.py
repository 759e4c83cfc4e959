"""What the modules of the ``parley`` command share."""

from __future__ import annotations

import click

from shared.bootstrap import Container, bootstrap
from shared.config import SettingsError


def container() -> Container:
    """This process's container; a bad setting is a clean command-line error."""
    try:
        return bootstrap()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
