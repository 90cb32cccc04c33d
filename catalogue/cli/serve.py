"""``catalogue serve``: run the web app with uvicorn."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
import uvicorn

from catalogue import logs
from catalogue.cli import workers as workers_module
from catalogue.cli.options import config_option, load
from catalogue.errors import CatalogueError
from catalogue.settings import Settings


@click.command()
@config_option
@click.option("--host", default=None, help="Address to listen on (default: server.host).")
@click.option("--port", type=int, default=None, help="Port (default: server.port).")
@click.option(
    "--workers", type=int, default=None, help="Server processes (default: server.workers)."
)
@click.option("--access-log/--no-access-log", default=False, show_default=True)
def serve(
    config_path: Path, host: str | None, port: int | None, workers: int | None, access_log: bool
) -> None:
    """Serve the catalogue: OGC API at /ogc, health at /health."""
    settings = load(config_path)
    run_server(settings, host=host, port=port, workers=workers, access_log=access_log)


def run_server(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    access_log: bool = False,
) -> None:
    from catalogue.web import create_app

    logs.configure()
    if workers is not None:
        settings = settings.model_copy(
            update={"server": settings.server.model_copy(update={"workers": workers})}
        )
    if port is not None:
        settings = settings.with_port(port)
    if host is not None:
        settings = settings.model_copy(
            update={"server": settings.server.model_copy(update={"host": host})}
        )
    try:
        app = create_app(settings)  # fails here, in one process, on a bad index or config
    except CatalogueError as exc:
        raise click.ClickException(exc.user_message) from None
    count = settings.server.worker_count()
    click.echo(
        f"Serving {settings.catalogue.title} at {settings.server.base_url()}/ogc "
        f"({count} worker{'s' if count > 1 else ''})",
        err=True,
    )
    options: dict[str, Any] = {
        "host": settings.server.host,
        "port": settings.server.port,
        "access_log": access_log,
        "log_level": "warning",
        # clients reuse idle connections; a short keep-alive makes them race the server's close
        "timeout_keep_alive": 30,
    }
    if count == 1:
        uvicorn.run(app, **options)
        return
    # each worker process builds its own app from the same settings
    os.environ[SETTINGS_ENV] = settings.model_dump_json(context={"reveal_secrets": True})
    factory = f"{__name__}:app_from_environment"
    if workers_module.available():  # a socket per worker: connections spread over them
        host, port = options.pop("host"), options.pop("port")
        try:
            status = workers_module.Workers(count, host, port, options, factory).run()
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from None
        sys.exit(status)
    uvicorn.run(factory, factory=True, workers=count, **options)


SETTINGS_ENV = "CATALOGUE_SERVE_SETTINGS"


def app_from_environment() -> Any:
    """The app of a worker process, built from the settings its parent put in the environment."""
    from catalogue.web import create_app

    logs.configure()
    return create_app(Settings.model_validate_json(os.environ[SETTINGS_ENV]))
