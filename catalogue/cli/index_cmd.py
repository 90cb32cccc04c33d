"""``catalogue index check``: compare the index with the harvest state and repair drift."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.table import Table

from catalogue import logs
from catalogue.cli.options import config_option, load
from catalogue.cli.reindex import opened, progress_display
from catalogue.errors import CatalogueError
from catalogue.index.drift import SourceState, check, repair


@click.group("index")
def index_group() -> None:
    """Look after the index."""


@index_group.command("check")
@config_option
@click.option(
    "--against",
    "reference_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Configuration whose index holds the harvest state (e.g. the SQLite file).",
)
@click.option("--items", "deep", is_flag=True, help="Hash every item's content too (slower).")
@click.option("--repair", "fix", is_flag=True, help="Copy drifting sources again, then re-check.")
@click.option("--json", "as_json", is_flag=True, help="The comparison as JSON.")
def check_cmd(
    config_path: Path, reference_path: Path, deep: bool, fix: bool, as_json: bool
) -> None:
    """Compare per-source counts and content hashes of the index of --config with those of
    --against. Exits with 1 while they differ."""
    logs.configure()
    settings, reference_settings = load(config_path), load(reference_path)
    console = Console(stderr=True)
    try:
        with opened(reference_settings.index) as reference, opened(settings.index) as index:
            drifts = check(reference, index, items=deep)
            repaired = 0
            if fix and not all(d.ok for d in drifts):
                total = sum(
                    d.expected.datasets + d.expected.items
                    for d in drifts
                    if d.expected and not d.ok
                )
                with progress_display(console, total, as_json) as on_progress:
                    repaired = repair(reference, index, drifts, on_progress)
                drifts = check(reference, index, items=deep)
    except CatalogueError as exc:
        raise click.ClickException(exc.user_message) from None
    if as_json:
        rows = [
            {
                "source": d.name,
                "ok": d.ok,
                "expected": _plain(d.expected),
                "actual": _plain(d.actual),
            }
            for d in drifts
        ]
        click.echo(orjson.dumps({"repaired": repaired, "sources": rows}).decode())
    else:
        table = Table(title_justify="left")
        for column in ("source", "status", "datasets", "items", "content"):
            table.add_column(column)
        for d in drifts:
            table.add_row(
                d.name,
                "[green]ok" if d.ok else "[red]drift",
                _pair(d.expected and d.expected.datasets, d.actual and d.actual.datasets),
                _pair(d.expected and d.expected.items, d.actual and d.actual.items),
                "same"
                if d.ok
                else _pair(d.expected and d.expected.digest[:8], d.actual and d.actual.digest[:8]),
            )
        Console(width=140).print(table)
        if repaired:
            click.echo(f"repaired {repaired} sources")
    if not all(d.ok for d in drifts):
        sys.exit(1)


def _pair(expected: object, actual: object) -> str:
    if expected == actual:
        return f"{expected:,}" if isinstance(expected, int) else str(expected)
    return f"{expected if expected is not None else '—'} ≠ {actual if actual is not None else '—'}"


def _plain(state: SourceState | None) -> dict[str, object] | None:
    if state is None:
        return None
    return {"datasets": state.datasets, "items": state.items, "digest": state.digest}
