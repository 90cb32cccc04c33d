"""``catalogue config validate``: check a configuration file without running anything."""

from __future__ import annotations

from pathlib import Path

import click

from catalogue.cli.options import config_option, load
from catalogue.errors import CatalogueError
from catalogue.harvest.registry import validate_sources
from catalogue.index import backend_names


@click.group()
def config() -> None:
    """Work with configuration files."""


@config.command()
@config_option
def validate(config_path: Path) -> None:
    """Check the configuration: keys, values, source types and their options."""
    settings = load(config_path)
    try:
        validate_sources(settings)
    except CatalogueError as exc:
        raise click.ClickException(exc.user_message) from None
    if settings.index.backend not in backend_names():
        raise click.ClickException(
            f"{settings.config_path}: index.backend: unknown backend {settings.index.backend!r} "
            f"(installed: {', '.join(backend_names())})"
        )
    click.echo(
        f"{settings.config_path}: valid ({len(settings.sources)} sources, "
        f"index backend {settings.index.backend})"
    )
