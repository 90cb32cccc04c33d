"""``catalogue reindex``: copy everything from one index backend to another, with progress.

A search-engine target is rebuilt in new indices and swapped in when complete (queries go on
meanwhile); another target is updated in place."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from catalogue import logs
from catalogue.cli.options import config_option, load
from catalogue.errors import CatalogueError
from catalogue.index import Index, open_index
from catalogue.index.transfer import Progress as OnProgress
from catalogue.index.transfer import copy_index, total_records
from catalogue.settings import IndexSettings


@click.command()
@config_option
@click.option(
    "--from",
    "origin_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Configuration whose index is copied (e.g. one with the SQLite file).",
)
@click.option("--quiet", is_flag=True, help="No progress display; the summary only.")
def reindex(config_path: Path, origin_path: Path, quiet: bool) -> None:
    """Copy every dataset and item from the index of --from into the index of --config."""
    logs.configure()
    origin_settings, target_settings = load(origin_path), load(config_path)
    if origin_settings.index == target_settings.index:
        raise click.ClickException("--from and --config name the same index")
    console = Console(stderr=True)
    started = time.perf_counter()
    try:
        with opened(origin_settings.index) as origin, opened(target_settings.index) as target:
            total = total_records(origin)
            with progress_display(console, total, quiet) as on_progress:
                report = copy_index(origin, target, on_progress)
    except CatalogueError as exc:
        raise click.ClickException(exc.user_message) from None
    elapsed = time.perf_counter() - started
    copied = sum(s.added + s.updated + s.unchanged for s in report.sources.values())
    rate = copied / elapsed if elapsed > 0 else 0.0
    how = "new indices swapped in" if report.swapped else "updated in place"
    click.echo(
        f"{copied:,} records from {len(report.sources)} sources in {elapsed:.1f} s "
        f"({rate:,.0f} records/s); {how}"
    )
    for record_id, reason in report.failed[:10]:
        click.echo(f"not copied: {record_id}: {reason}", err=True)
    if report.failed:
        click.echo(f"{len(report.failed)} records not copied", err=True)
        sys.exit(1)


@contextmanager
def opened(settings: IndexSettings) -> Iterator[Index]:
    index = open_index(settings)
    try:
        yield index
    finally:
        index.close()


@contextmanager
def progress_display(console: Console, total: int, quiet: bool) -> Iterator[OnProgress]:
    """A progress bar on a terminal; otherwise a line on stderr at every tenth of the way."""
    if console.is_terminal and not quiet:
        with Progress(
            TextColumn("[bold]copying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("copy", total=total or None)
            yield lambda n: bar.advance(task, n)
        return
    done = 0
    step = max(total // 10, 1)

    def report(n: int) -> None:
        nonlocal done
        before, done = done, done + n
        if not quiet and done // step > before // step:
            console.print(f"copied {done:,} of {total:,} records")

    yield report
