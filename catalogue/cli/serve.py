"""``catalogue serve``: run the web app with uvicorn."""

from __future__ import annotations

from pathlib import Path

import click
import uvicorn

from catalogue import logs
from catalogue.cli.options import config_option, load
from catalogue.errors import CatalogueError
from catalogue.settings import Settings


@click.command()
@config_option
@click.option("--host", default=None, help="Address to listen on (default: server.host).")
@click.option("--port", type=int, default=None, help="Port (default: server.port).")
@click.option("--access-log/--no-access-log", default=False, show_default=True)
def serve(config_path: Path, host: str | None, port: int | None, access_log: bool) -> None:
    """Serve the catalogue: OGC API at /ogc, health at /health."""
    settings = load(config_path)
    run_server(settings, host=host, port=port, access_log=access_log)


def run_server(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    access_log: bool = False,
) -> None:
    from catalogue.web import create_app

    logs.configure()
    if port is not None:
        settings = settings.with_port(port)
    if host is not None:
        settings = settings.model_copy(
            update={"server": settings.server.model_copy(update={"host": host})}
        )
    try:
        app = create_app(settings)
    except CatalogueError as exc:
        raise click.ClickException(exc.user_message) from None
    click.echo(f"Serving {settings.catalogue.title} at {settings.server.base_url()}/ogc", err=True)
    uvicorn.run(
        app,
        host=settings.server.host,
        port=settings.server.port,
        access_log=access_log,
        log_level="warning",
    )
