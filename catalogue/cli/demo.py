"""``catalogue demo``: harvest the bundled demo sources into a fresh index and serve them."""

from __future__ import annotations

import os
from pathlib import Path

import click
import platformdirs

from catalogue.cli.harvest import harvest_into_index
from catalogue.cli.serve import run_server
from catalogue.errors import CatalogueError
from catalogue.settings import load_settings

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "demo" / "demo.yml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("open-urban-catalogue")) / "demo"


@click.command()
@click.option("--port", type=int, default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the demo index and reports are kept (default: a user data folder).",
)
@click.option("--no-serve", is_flag=True, help="Harvest only; do not start the server.")
def demo(port: int, host: str, data_dir: Path | None, no_serve: bool) -> None:
    """Harvest the demo catalogue into a fresh index and serve it on http://HOST:PORT."""
    folder = (data_dir or default_data_dir()).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("catalogue.sqlite", "catalogue.sqlite-hits"):
        for suffix in ("", "-wal", "-shm"):
            (folder / f"{name}{suffix}").unlink(missing_ok=True)
    try:
        settings = load_settings(DEMO_CONFIG, {**os.environ, "CATALOGUE_DEMO_DIR": str(folder)})
    except CatalogueError as exc:
        raise click.ClickException(exc.user_message) from None
    click.echo(f"Demo data folder: {folder}", err=True)
    harvest_into_index(settings, [])
    if not no_serve:
        run_server(settings, host=host, port=port)
