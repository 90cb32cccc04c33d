"""RDF formats of the DCAT output, streamed chunk by chunk: a catalogue of any size is written
one dataset graph at a time, never as one graph in memory.

JSON-LD is compacted with pyld against the stable context in ``vocab/dcat-context.jsonld``
(prefixes only, so compaction never changes what the data means).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

from pyld import jsonld
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from catalogue.dcat.namespaces import PREFIXES, RDF, bind_prefixes
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

    JSONLD_BATCH = 100
    """Dataset graphs compacted by pyld in one call (its cost is per call as much as per node)."""

    def __init__(self, fmt: RDFFormat, context: dict[str, Any]) -> None:
        self.format = fmt
        self.context = context

    def stream(self, graphs: Iterable[Graph], chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """The document in pieces of about ``chunk_size`` bytes."""
        writer = getattr(self, "_" + self.format.name.replace("-", "_"))
        pending: list[str] = []
        size = 0
        for text in writer(graphs):
            pending.append(text)
            size += len(text)
            if size >= chunk_size:
                yield "".join(pending).encode("utf-8")
                pending, size = [], 0
        if pending:
            yield "".join(pending).encode("utf-8")

    def whole(self, graphs: Iterable[Graph]) -> bytes:
        return b"".join(self.stream(graphs))

    def _turtle(self, graphs: Iterable[Graph]) -> Iterator[str]:
        yield "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items())
        for g in graphs:
            yield turtle_statements(g)

    def _nt(self, graphs: Iterable[Graph]) -> Iterator[str]:
        for g in graphs:
            yield g.serialize(format="nt")

    def _xml(self, graphs: Iterable[Graph]) -> Iterator[str]:
        namespaces = "".join(f'\n   xmlns:{p}="{ns}"' for p, ns in PREFIXES.items())
        yield f'<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF{namespaces}>\n'
        for g in graphs:
            # the chunk's elements must use the prefixes the document element declares
            text = bind_prefixes(g).serialize(format="xml")
            start = text.find(">", text.find("<rdf:RDF")) + 1
            end = text.rfind("</rdf:RDF>")
            yield text[start:end].strip("\n") + "\n"
        yield "</rdf:RDF>\n"

    def _json_ld(self, graphs: Iterable[Graph]) -> Iterator[str]:
        yield '{"@context": ' + json.dumps(self.context, sort_keys=True) + ', "@graph": ['
        first = True
        batch: list[dict[str, Any]] = []
        pending = 0
        for g in chain(graphs, [None]):
            if g is not None:
                batch.extend(expanded_nodes(g))
                pending += 1
                if pending < self.JSONLD_BATCH:
                    continue
            for node in self.compact(batch):
                yield ("\n" if first else ",\n") + json.dumps(node, ensure_ascii=False)
                first = False
            batch, pending = [], 0
        yield "\n]}\n"

    def compact(self, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Expanded JSON-LD node objects compacted with the context (which is left out)."""
        if not nodes:
            return []
        # the nodes are expanded JSON-LD already; pyld need not expand them again
        compacted = jsonld.compact(nodes, {"@context": self.context}, {"skipExpansion": True})
        compacted.pop("@context", None)
        if "@graph" in compacted:
            return list(compacted["@graph"])
        return [compacted] if compacted else []


def expanded_nodes(g: Graph) -> list[dict[str, Any]]:
    """A graph as expanded JSON-LD node objects, one per subject."""
    nodes: dict[Node, dict[str, Any]] = {}
    for s, p, o in g:
        node = nodes.get(s)
        if node is None:
            node = nodes[s] = {"@id": _id(s)}
        if p == RDF.type:
            node.setdefault("@type", []).append(str(o))
        elif isinstance(o, Literal):
            value: dict[str, Any] = {"@value": str(o)}
            if o.language:
                value["@language"] = o.language
            elif o.datatype is not None:
                value["@type"] = str(o.datatype)
            node.setdefault(str(p), []).append(value)
        else:
            node.setdefault(str(p), []).append({"@id": _id(o)})
    return list(nodes.values())


def _id(term: Node) -> str:
    return f"_:{term}" if isinstance(term, BNode) else str(term)


_PN_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_BY_LENGTH = sorted(PREFIXES.items(), key=lambda e: -len(e[1]))


@lru_cache(maxsize=4096)
def _iri(iri: str) -> str:
    for prefix, namespace in _BY_LENGTH:
        if iri.startswith(namespace) and _PN_LOCAL.match(iri[len(namespace) :]):
            return f"{prefix}:{iri[len(namespace) :]}"
    return URIRef(iri).n3()


def _term(term: Node) -> str:
    if isinstance(term, URIRef):
        return _iri(str(term))
    return term.n3()


def turtle_statements(g: Graph) -> str:
    """The triples of ``g`` as Turtle statements grouped by subject, using the prefixes the
    document declares (rdflib's Turtle serializer costs several times as much per graph)."""
    subjects: dict[Node, dict[Node, list[Node]]] = {}
    for s, p, o in g:
        subjects.setdefault(s, {}).setdefault(p, []).append(o)
    out = []
    for s, predicates in subjects.items():
        types = predicates.pop(RDF.type, None)
        parts = ["a " + ", ".join(map(_term, types))] if types else []
        for p, objects in predicates.items():
            parts.append(_term(p) + " " + ", ".join(map(_term, objects)))
        out.append(f"\n{_term(s)} " + " ;\n    ".join(parts) + " .\n")
    return "".join(out)
