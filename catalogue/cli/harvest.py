"""``catalogue harvest``: harvest the configured sources into the index, with progress."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from catalogue import logs
from catalogue.cli.options import config_option, load
from catalogue.errors import CatalogueError
from catalogue.harvest.lock import harvest_lock
from catalogue.harvest.registry import validate_sources
from catalogue.harvest.report import HarvestReport
from catalogue.harvest.runner import run_harvest
from catalogue.index import Index, open_index
from catalogue.settings import Settings


@click.command()
@config_option
@click.option("--source", "sources", multiple=True, help="Harvest only this source (repeatable).")
@click.option("--quiet", is_flag=True, help="No progress display; the summary only.")
@click.option(
    "--full",
    is_flag=True,
    help="Incremental sources list everything instead of what changed since their last run.",
)
def harvest(config_path: Path, sources: tuple[str, ...], quiet: bool, full: bool) -> None:
    """Harvest the configured sources into the index.

    Exits with 1 when a source failed; the other sources are harvested all the same.
    """
    settings = load(config_path)
    report = harvest_into_index(settings, list(sources), quiet=quiet, full=full)
    if not report.ok:
        sys.exit(1)


def harvest_into_index(
    settings: Settings, only: list[str], *, quiet: bool = False, full: bool = False
) -> HarvestReport:
    """Run a harvest with a progress display and a summary table; write the report."""
    logs.configure()
    console = Console(stderr=True)
    try:
        validate_sources(settings)
        index = open_index(settings.index)
    except CatalogueError as exc:
        raise click.ClickException(exc.user_message) from None
    started = time.perf_counter()
    try:
        with harvest_lock(settings.reports_dir()):
            report = _run(settings, index, only, quiet=quiet, full=full, console=console)
            elapsed = time.perf_counter() - started
            path = report.write(settings.reports_dir())
    except CatalogueError as exc:
        raise click.ClickException(exc.user_message) from None
    finally:
        index.close()
    _summary(Console(width=None if sys.stdout.isatty() else 120), report, elapsed, path)
    return report


def _run(
    settings: Settings,
    index: Index,
    only: list[str],
    *,
    quiet: bool,
    full: bool,
    console: Console,
) -> HarvestReport:
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.completed:,} records"),
        TimeElapsedColumn(),
        console=console,
        disable=quiet or not console.is_terminal,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def on_progress(source: str, count: int) -> None:
            if source not in tasks:
                tasks[source] = progress.add_task(source, total=None)
            progress.update(tasks[source], completed=count)

        return run_harvest(settings, index, only=only or None, progress=on_progress, full=full)


def _summary(console: Console, report: HarvestReport, elapsed: float, path: Path) -> None:
    table = Table(title=f"Harvest {report.run_id}", title_justify="left")
    for column in (
        "source",
        "status",
        "datasets",
        "items",
        "added",
        "updated",
        "unchanged",
        "deleted",
        "failed",
    ):
        table.add_column(column, justify="left" if column in ("source", "status") else "right")
    records = 0
    for s in report.sources:
        records += s.datasets + s.items
        status = "[green]ok" if s.status == "ok" else f"[red]{s.status}"
        table.add_row(
            s.name,
            status,
            *(
                f"{n:,}"
                for n in (s.datasets, s.items, s.added, s.updated, s.unchanged, s.deleted, s.failed)
            ),
        )
    console.print(table)
    for s in report.sources:
        if s.error:
            console.print(f"[red]{s.name}: {s.error}")
        for warning in s.warnings:
            console.print(f"[yellow]{s.name}: warning: {warning}")
        for problem in s.problems[:5]:
            console.print(f"[yellow]{s.name}: skipped {problem.where}: {problem.reason}")
        if s.failed > 5:
            console.print(f"[yellow]{s.name}: … {s.failed - 5} more skipped, see the report")
    rate = records / elapsed if elapsed > 0 else 0.0
    console.print(f"{records:,} records in {elapsed:.1f} s ({rate:,.0f} records/s); report: {path}")
