"""SHACL validation of the catalogue's DCAT with pySHACL against shape files given by path.

The vocabularies are loaded beside the data, as a portal's validator loads the imports of the
official shapes; without them every vocabulary constraint fails and the violations say nothing
about the data. They are mixed into a copy of the data graph here rather than passed as pySHACL's
``ont_graph``: pySHACL copies only RDFS/OWL axioms from an ``ont_graph`` (unless the environment
sets ``PYSHACL_USE_FULL_MIXIN``), not the SKOS concepts and their ``skos:inScheme``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyshacl
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from catalogue.dcat.namespaces import DCAT, RDF
from catalogue.errors import ConfigError

log = logging.getLogger("catalogue.dcat.validation")

SH = Namespace("http://www.w3.org/ns/shacl#")


@dataclass(frozen=True, slots=True)
class Finding:
    """One validation result."""

    severity: str
    """``Violation``, ``Warning`` or ``Info``."""
    shape: str
    dataset: str | None
    focus: str
    path: str | None
    value: str | None
    messages: tuple[tuple[str, str], ...]
    """(language, text) of every message the shape carries; language ``""`` when untagged."""

    def message(self, languages: Sequence[str] = ("de", "en", "")) -> str:
        for lang in languages:
            for msg_lang, text in self.messages:
                if msg_lang == lang:
                    return text
        return self.messages[0][1] if self.messages else ""


@dataclass
class ValidationReport:
    shapes: tuple[Path, ...]
    findings: list[Finding] = field(default_factory=list)

    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Warning"]

    def grouped(self, severity: str = "Violation") -> dict[str, dict[str, list[Finding]]]:
        """Findings of one severity by shape, then by dataset."""
        out: dict[str, dict[str, list[Finding]]] = {}
        for f in self.findings:
            if f.severity == severity:
                out.setdefault(f.shape, {}).setdefault(f.dataset or "(catalogue)", []).append(f)
        return out


def load_shapes(paths: Iterable[Path]) -> Graph:
    shapes = Graph()
    for path in paths:
        try:
            shapes.parse(path, format="turtle")
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such shapes file") from None
        except Exception as exc:  # rdflib raises many kinds of parse errors
            raise ConfigError(f"{path}: not valid Turtle: {exc}") from None
    return shapes


def validate(
    data: Graph, shape_files: Sequence[Path], vocabularies: Graph | None = None
) -> ValidationReport:
    """Validate ``data`` (with ``vocabularies`` as background data) against the shapes of
    ``shape_files``, read as one shapes graph."""
    shapes = load_shapes(shape_files)
    mixed = Graph()
    mixed += data
    if vocabularies is not None:
        mixed += vocabularies
    _conforms, results, _text = pyshacl.validate(
        mixed,
        shacl_graph=shapes,
        advanced=True,
        allow_warnings=True,
        inplace=True,
    )
    assert isinstance(results, Graph)
    report = ValidationReport(tuple(shape_files))
    owners = _dataset_owners(data)
    # nested results (sh:detail of an sh:node or sh:or) explain a top-level one; only the
    # top-level results have the severity the shape gives
    for result in results.objects(None, SH.result):
        focus = results.value(result, SH.focusNode)
        severity = results.value(result, SH.resultSeverity)
        source = results.value(result, SH.sourceShape)
        messages = tuple(
            (m.language or "", str(m))
            for m in results.objects(result, SH.resultMessage)
            if isinstance(m, Literal)
        )
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        report.findings.append(
            Finding(
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                shape=_shape_name(shapes, source),
                dataset=owners.get(focus) if focus is not None else None,
                focus=str(focus),
                path=str(path) if isinstance(path, URIRef) else None,
                value=str(value) if value is not None else None,
                messages=messages,
            )
        )
    log.info(
        "validated shapes=%s violations=%d warnings=%d",
        ",".join(p.name for p in shape_files),
        len(report.violations()),
        len(report.warnings()),
    )
    return report


def _shape_name(shapes: Graph, source: Node | None) -> str:
    """The node shape a result comes from, named by sh:name/rdfs:label or its IRI."""
    if source is None:
        return "(unknown shape)"
    node = source
    parent = shapes.value(None, SH.property, source)
    if parent is not None:
        node = parent
    for prop in (SH.name, URIRef("http://www.w3.org/2000/01/rdf-schema#label")):
        label = shapes.value(node, prop)
        if label is not None:
            return str(label)
    return str(node)


def _dataset_owners(data: Graph) -> dict[Node, str]:
    """Which dataset each resource belongs to: a dataset itself, its distributions and the
    nodes they reference, one level deep."""
    owners: dict[Node, str] = {}
    for dataset in data.subjects(RDF.type, DCAT.Dataset):
        owners[dataset] = str(dataset)
        for _, _, obj in data.triples((dataset, None, None)):
            owners.setdefault(obj, str(dataset))
            for _, _, inner in data.triples((obj, None, None)):
                owners.setdefault(inner, str(dataset))
    return owners
