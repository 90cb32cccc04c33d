"""``catalogue validate``: the catalogue's DCAT against SHACL shape files, with pySHACL."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console

from catalogue import logs
from catalogue.cli.options import config_option, load
from catalogue.dcat.graph import DCATBuilder
from catalogue.dcat.validation import ValidationReport, validate
from catalogue.errors import CatalogueError
from catalogue.index import open_index


def _shape_set(ctx: Any, param: Any, values: tuple[str, ...]) -> list[list[Path]]:
    sets = []
    for value in values:
        paths = [Path(p.strip()).expanduser() for p in value.split(",") if p.strip()]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise click.BadParameter(f"no such file: {', '.join(missing)}")
        sets.append(paths)
    return sets


@click.command()
@config_option
@click.option(
    "--shapes",
    "shape_sets",
    multiple=True,
    required=True,
    callback=_shape_set,
    help="SHACL shape files validated together, comma-separated; repeat for another set "
    "(e.g. once for DCAT-AP 3.0.1, once for DCAT-AP.de 3.0).",
)
@click.option("--warnings", "show_warnings", is_flag=True, help="List warnings too.")
@click.option("--json", "as_json", is_flag=True, help="Findings as JSON.")
def validate_cmd(
    config_path: Path, shape_sets: list[list[Path]], show_warnings: bool, as_json: bool
) -> None:
    """Validate the catalogue's DCAT output against SHACL shapes.

    The vocabularies of the catalogue's vocab folder are loaded beside the data, as a portal's
    validator loads the shapes' imports. Prints violations grouped by shape and dataset with
    the messages the shapes carry, and the harvested values no vocabulary concept stands for.
    Exits with 1 when there is a violation.
    """
    settings = load(config_path)
    logs.configure()
    console = Console(stderr=True)
    try:
        builder = DCATBuilder.from_settings(settings)
        builder.ctx.record_unmapped = True
        index = open_index(settings.index)
    except CatalogueError as exc:
        raise click.ClickException(exc.user_message) from None
    try:
        with console.status("building the catalogue graph"):
            graph = builder.whole_graph(index.iter_datasets())
        reports = []
        for shapes in shape_sets:
            with console.status(f"validating against {', '.join(p.name for p in shapes)}"):
                reports.append(validate(graph, shapes, builder.ctx.vocab.graph))
    except CatalogueError as exc:
        raise click.ClickException(exc.user_message) from None
    finally:
        index.close()
    unmapped = builder.ctx.unmapped
    if as_json:
        click.echo(
            orjson.dumps(
                {
                    "reports": [_as_dict(r) for r in reports],
                    "unmapped": [
                        {"vocabulary": u.vocabulary, "value": u.value, "count": n}
                        for u, n in sorted(unmapped.items(), key=lambda e: e[0].vocabulary)
                    ],
                },
                option=orjson.OPT_INDENT_2,
            ).decode()
        )
    else:
        for report in reports:
            _print(report, show_warnings)
        if unmapped:
            click.echo("\nvalues no vocabulary concept stands for (left out, not guessed):")
            for u, n in sorted(unmapped.items(), key=lambda e: (e[0].vocabulary, e[0].value)):
                click.echo(f"  {u.vocabulary}: {u.value!r} ({n}x)")
    if any(r.violations() for r in reports):
        sys.exit(1)


def _print(report: ValidationReport, show_warnings: bool) -> None:
    names = ", ".join(p.name for p in report.shapes)
    click.echo(f"{names}: {len(report.violations())} violations, {len(report.warnings())} warnings")
    severities = ("Violation", "Warning") if show_warnings else ("Violation",)
    for severity in severities:
        for shape, by_dataset in sorted(report.grouped(severity).items()):
            click.echo(f"  [{severity}] {shape}")
            for dataset, findings in sorted(by_dataset.items()):
                click.echo(f"    {dataset}")
                for f in findings:
                    focus = f.focus.removeprefix(dataset) or "dataset"
                    where = f"{focus} {_short(f.path)}" if f.path else focus
                    click.echo(f"      {where}: {f.message(('de',))}")
                    english = f.message(("en", ""))
                    if english and english != f.message(("de",)):
                        click.echo(f"      {' ' * len(where)}  {english}")


def _short(uri: str) -> str:
    return uri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _as_dict(report: ValidationReport) -> dict[str, Any]:
    return {
        "shapes": [str(p) for p in report.shapes],
        "violations": len(report.violations()),
        "warnings": len(report.warnings()),
        "findings": [
            {
                "severity": f.severity,
                "shape": f.shape,
                "dataset": f.dataset,
                "focus": f.focus,
                "path": f.path,
                "value": f.value,
                "messages": {lang or "none": text for lang, text in f.messages},
            }
            for f in report.findings
        ],
    }
