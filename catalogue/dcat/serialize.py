"""RDF formats of the DCAT output, streamed chunk by chunk: a catalogue of any size is written
one dataset graph at a time, never as one graph in memory.

JSON-LD is compacted with pyld against the stable context in ``vocab/dcat-context.jsonld``
(prefixes only, so compaction never changes what the data means).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyld import jsonld
from rdflib import Graph

from catalogue.dcat.namespaces import PREFIXES
from catalogue.errors import ConfigError


@dataclass(frozen=True, slots=True)
class RDFFormat:
    name: str
    """rdflib's name for the format."""
    media_type: str
    suffix: str


FORMATS: tuple[RDFFormat, ...] = (
    RDFFormat("turtle", "text/turtle", "ttl"),
    RDFFormat("xml", "application/rdf+xml", "rdf"),
    RDFFormat("json-ld", "application/ld+json", "jsonld"),
    RDFFormat("nt", "application/n-triples", "nt"),
)
BY_SUFFIX = {f.suffix: f for f in FORMATS}
BY_MEDIA_TYPE = {f.media_type: f for f in FORMATS} | {
    "application/x-turtle": FORMATS[0],
    "application/json": FORMATS[2],
    "text/plain": FORMATS[3],
    "application/xml": FORMATS[1],
    "text/xml": FORMATS[1],
}


def load_context(vocab_dir: Path) -> dict[str, Any]:
    path = vocab_dir / "dcat-context.jsonld"
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))["@context"])
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"{path}: cannot read the JSON-LD context: {exc}") from None


class Serializer:
    """Writes a sequence of graphs (the catalogue node first, then datasets) in one format."""

    def __init__(self, fmt: RDFFormat, context: dict[str, Any]) -> None:
        self.format = fmt
        self.context = context

    def stream(self, graphs: Iterable[Graph]) -> Iterator[bytes]:
        writer = getattr(self, "_" + self.format.name.replace("-", "_"))
        for chunk in writer(graphs):
            yield chunk.encode("utf-8")

    def whole(self, graphs: Iterable[Graph]) -> bytes:
        return b"".join(self.stream(graphs))

    def _turtle(self, graphs: Iterable[Graph]) -> Iterator[str]:
        yield "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items())
        for g in graphs:
            text = g.serialize(format="turtle")
            yield (
                "\n"
                + "".join(
                    line + "\n" for line in text.splitlines() if not line.startswith("@prefix")
                ).strip("\n")
                + "\n"
            )

    def _nt(self, graphs: Iterable[Graph]) -> Iterator[str]:
        for g in graphs:
            yield g.serialize(format="nt")

    def _xml(self, graphs: Iterable[Graph]) -> Iterator[str]:
        namespaces = "".join(f'\n   xmlns:{p}="{ns}"' for p, ns in PREFIXES.items())
        yield f'<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF{namespaces}>\n'
        for g in graphs:
            text = g.serialize(format="xml")
            start = text.find(">", text.find("<rdf:RDF")) + 1
            end = text.rfind("</rdf:RDF>")
            yield text[start:end].strip("\n") + "\n"
        yield "</rdf:RDF>\n"

    def _json_ld(self, graphs: Iterable[Graph]) -> Iterator[str]:
        yield '{"@context": ' + json.dumps(self.context, sort_keys=True) + ', "@graph": ['
        first = True
        for g in graphs:
            for node in self.compact_nodes(g):
                yield ("\n" if first else ",\n") + json.dumps(node, ensure_ascii=False)
                first = False
        yield "\n]}\n"

    def compact_nodes(self, g: Graph) -> list[dict[str, Any]]:
        """The nodes of ``g`` as compacted JSON-LD node objects (without the context)."""
        expanded = json.loads(g.serialize(format="json-ld"))
        compacted = jsonld.compact(expanded, {"@context": self.context})
        compacted.pop("@context", None)
        if "@graph" in compacted:
            return list(compacted["@graph"])
        return [compacted] if compacted else []
