"""The ``catalogue`` command: one small module per subcommand, imported when it runs (a
harvest starts without loading the web server, the validator and the rest)."""

from __future__ import annotations

from importlib import import_module

import click

from catalogue import __version__

_COMMANDS = {
    "harvest": ("catalogue.cli.harvest", "harvest"),
    "serve": ("catalogue.cli.serve", "serve"),
    "demo": ("catalogue.cli.demo", "demo"),
    "config": ("catalogue.cli.config_cmd", "config"),
    "runs": ("catalogue.cli.runs", "runs"),
    "validate": ("catalogue.cli.validate", "validate_cmd"),
    "reindex": ("catalogue.cli.reindex", "reindex"),
    "index": ("catalogue.cli.index_cmd", "index_group"),
}


class _Commands(click.Group):
    """Subcommands found by name in their modules."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = _COMMANDS.get(cmd_name)
        if where is None:
            return None
        command: click.Command = getattr(import_module(where[0]), where[1])
        return command


@click.group(cls=_Commands)
@click.version_option(__version__, prog_name="catalogue")
def main() -> None:
    """Open Urban Catalogue: harvest a city's open data and publish it."""
