"""The ``catalogue`` command: one small module per subcommand."""

from __future__ import annotations

import click

from catalogue import __version__
from catalogue.cli.config_cmd import config
from catalogue.cli.demo import demo
from catalogue.cli.harvest import harvest
from catalogue.cli.index_cmd import index_group
from catalogue.cli.reindex import reindex
from catalogue.cli.runs import runs
from catalogue.cli.serve import serve
from catalogue.cli.validate import validate_cmd


@click.group()
@click.version_option(__version__, prog_name="catalogue")
def main() -> None:
    """Open Urban Catalogue: harvest a city's open data and publish it."""


main.add_command(harvest)
main.add_command(serve)
main.add_command(demo)
main.add_command(config)
main.add_command(runs)
main.add_command(validate_cmd, name="validate")
main.add_command(reindex)
main.add_command(index_group)
