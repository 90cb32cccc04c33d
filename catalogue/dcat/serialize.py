"""RDF formats of the DCAT output, streamed chunk by chunk: a catalogue of any size is written
one dataset's triples at a time, never as one graph in memory.

Turtle, N-Triples and JSON-LD are written from the triples directly
(:mod:`catalogue.dcat.turtle`, :mod:`catalogue.dcat.json_ld`); RDF/XML through rdflib. JSON-LD is
compacted against the stable context in ``vocab/dcat-context.jsonld`` (prefixes only, so
compaction never changes what the data means). A dataset whose triples cannot be written (a
character its format cannot carry) is left out and logged; the rest of the document is written.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from catalogue.dcat.json_ld import Compactor
from catalogue.dcat.namespaces import PREFIXES, bind_prefixes
from catalogue.dcat.triples import Triples
from catalogue.dcat.turtle import NTriplesWriter, TurtleWriter
from catalogue.errors import ConfigError

log = logging.getLogger("catalogue.dcat")


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
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot carry, not even as character references: RDF/XML writes U+FFFD
for them (rdflib's writer would put them in as they are, making the document unreadable);
Turtle, N-Triples and JSON-LD keep them, escaped."""
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
    """Writes a sequence of triples (the catalogue node first, then datasets) in one format."""

    JSONLD_BATCH = 100
    """Datasets compacted by pyld in one call, when the context is not prefixes only (its cost
    is per call as much as per node)."""

    def __init__(self, fmt: RDFFormat, context: dict[str, Any]) -> None:
        self.format = fmt
        self.context = context

    def stream(self, parts: Iterable[Triples], chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """The document in pieces of about ``chunk_size`` bytes."""
        writer: Callable[[Iterable[Triples]], Iterator[bytes]] = getattr(
            self, "_" + self.format.name.replace("-", "_")
        )
        pending: list[bytes] = []
        size = 0
        for piece in writer(parts):
            pending.append(piece)
            size += len(piece)
            if size >= chunk_size:
                yield b"".join(pending)
                pending, size = [], 0
        if pending:
            yield b"".join(pending)

    def whole(self, parts: Iterable[Triples]) -> bytes:
        return b"".join(self.stream(parts))

    def _turtle(self, parts: Iterable[Triples]) -> Iterator[bytes]:
        writer = TurtleWriter(PREFIXES)
        yield writer.header().encode()
        yield from _each(parts, lambda t: writer.statements(t).encode())

    def _nt(self, parts: Iterable[Triples]) -> Iterator[bytes]:
        writer = NTriplesWriter()
        yield from _each(parts, lambda t: writer.statements(t).encode())

    def _xml(self, parts: Iterable[Triples]) -> Iterator[bytes]:
        namespaces = "".join(f'\n   xmlns:{p}="{ns}"' for p, ns in PREFIXES.items())
        yield f'<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF{namespaces}>\n'.encode()

        def chunk(triples: Triples) -> bytes:
            # the chunk's elements must use the prefixes the document element declares
            text = bind_prefixes(triples.graph()).serialize(format="xml")
            start = text.find(">", text.find("<rdf:RDF")) + 1
            end = text.rfind("</rdf:RDF>")
            return (NOT_XML.sub("\ufffd", text[start:end].strip("\n")) + "\n").encode()

        yield from _each(parts, chunk)
        yield b"</rdf:RDF>\n"

    def _json_ld(self, parts: Iterable[Triples]) -> Iterator[bytes]:
        compactor = Compactor(self.context)
        context = json.dumps(self.context, sort_keys=True)
        yield f'{{"@context": {context}, "@graph": ['.encode()

        def nodes(batch: list[Triples]) -> bytes:
            return b",\n".join(map(orjson.dumps, compactor.nodes(batch)))

        if compactor.prefixes is not None:
            pieces = _each(parts, lambda t: nodes([t]))
        else:
            pieces = map(nodes, _batches(parts, self.JSONLD_BATCH))
        first = True
        for piece in pieces:
            if piece:
                yield (b"\n" if first else b",\n") + piece
                first = False
        yield b"\n]}\n"


def _each(parts: Iterable[Triples], write: Callable[[Triples], bytes]) -> Iterator[bytes]:
    """``write`` applied to each part; a part that cannot be written is logged and left out."""
    for part in parts:
        try:
            yield write(part)
        except (ValueError, UnicodeError, orjson.JSONEncodeError) as exc:
            subject = next(iter(part.subjects), "")
            log.warning("left out of the DCAT output subject=%s: %s", subject, exc)


def _batches(parts: Iterable[Triples], size: int) -> Iterator[list[Triples]]:
    batch: list[Triples] = []
    for part in parts:
        batch.append(part)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
