"""``catalogue runs``: the recent harvest runs and how each source fared."""

from __future__ import annotations

from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.table import Table

from catalogue.cli.options import config_option, load
from catalogue.harvest.report import recent_reports


@click.command()
@config_option
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The reports as JSON, newest first.")
def runs(config_path: Path, limit: int, as_json: bool) -> None:
    """List recent harvest runs, newest first."""
    settings = load(config_path)
    reports = recent_reports(settings.reports_dir(), limit)
    if as_json:
        click.echo(orjson.dumps(reports, option=orjson.OPT_INDENT_2).decode())
        return
    if not reports:
        click.echo(f"no harvest runs in {settings.reports_dir()}")
        return
    table = Table(title_justify="left")
    for column in (
        "run",
        "source",
        "status",
        "added",
        "updated",
        "unchanged",
        "deleted",
        "failed",
        "warnings",
    ):
        table.add_column(
            column, justify="left" if column in ("run", "source", "status") else "right"
        )
    for report in reports:
        for i, s in enumerate(report.get("sources") or ()):
            table.add_row(
                report["run_id"] if i == 0 else "",
                s["name"],
                s["status"],
                *(str(s.get(k, 0)) for k in ("added", "updated", "unchanged", "deleted", "failed")),
                str(len(s.get("warnings") or ())),
            )
    Console(width=140).print(table)
