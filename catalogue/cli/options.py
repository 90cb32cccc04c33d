"""Options and helpers shared by the subcommands."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from catalogue.errors import CatalogueError
from catalogue.settings import Settings, load_settings

DEFAULT_CONFIG = "config/catalogue.yml"


def config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=lambda: os.environ.get("CATALOGUE_CONFIG", DEFAULT_CONFIG),
        show_default=f"$CATALOGUE_CONFIG or {DEFAULT_CONFIG}",
        help="Configuration file.",
    )(func)


def load(config_path: Path) -> Settings:
    """Load settings or stop with the error, naming the file and key."""
    try:
        return load_settings(config_path)
    except CatalogueError as exc:
        raise click.ClickException(exc.user_message) from None
