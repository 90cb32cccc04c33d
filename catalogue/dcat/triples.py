"""The DCAT mapping's output: triples of plain terms, grouped by subject.

The profiles write into :class:`Triples` rather than into an rdflib ``Graph``: an IRI is a plain
``str`` and a literal a small tuple, so describing a dataset costs dictionary inserts instead of
rdflib term construction and store indexing (about ten times as much). The writers in
:mod:`catalogue.dcat.turtle` and :mod:`catalogue.dcat.json_ld` read the subject groups directly;
:meth:`Triples.graph` makes the rdflib graph of the same triples where one is needed (SHACL
validation, RDF/XML).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

from rdflib import Graph, URIRef
from rdflib import Literal as RDFLiteral


class Lit(NamedTuple):
    """A literal: its lexical form with a language tag, a datatype IRI, or neither."""

    text: str
    lang: str | None = None
    datatype: str | None = None


Term = str | Lit
"""An object: an IRI (a plain ``str``) or a literal."""


class Triples:
    """A set of triples kept as subject → predicate → objects, each level in the order first
    added (so the output reads in the order the mapping states things), duplicates dropped."""

    __slots__ = ("subjects",)

    def __init__(self) -> None:
        self.subjects: dict[str, dict[str, dict[Term, None]]] = {}

    def add(self, s: str, p: str, o: Term) -> None:
        predicates = self.subjects.get(s)
        if predicates is None:
            self.subjects[s] = {p: {o: None}}
            return
        objects = predicates.get(p)
        if objects is None:
            predicates[p] = {o: None}
        else:
            objects[o] = None

    def objects(self, s: str, p: str) -> list[Term]:
        return list(self.subjects.get(s, {}).get(p, ()))

    def value(self, s: str, p: str) -> Term | None:
        for o in self.subjects.get(s, {}).get(p, ()):
            return o
        return None

    def __iter__(self) -> Iterator[tuple[str, str, Term]]:
        for s, predicates in self.subjects.items():
            for p, objects in predicates.items():
                for o in objects:
                    yield s, p, o

    def __len__(self) -> int:
        return sum(len(objects) for ps in self.subjects.values() for objects in ps.values())

    def update(self, other: Triples) -> None:
        for s, p, o in other:
            self.add(s, p, o)

    def graph(self, graph: Graph | None = None) -> Graph:
        """These triples as rdflib terms, added to ``graph`` (a new one by default)."""
        return to_graph((self,), graph)


def to_graph(parts: Iterable[Triples], graph: Graph | None = None) -> Graph:
    """The triples of ``parts`` in one rdflib graph."""
    g = graph if graph is not None else Graph()
    iris: dict[str, URIRef] = {}

    def node(iri: str) -> URIRef:
        term = iris.get(iri)
        if term is None:
            term = iris[iri] = URIRef(iri)
        return term

    for triples in parts:
        for s, p, o in triples:
            if isinstance(o, Lit):
                obj: URIRef | RDFLiteral = RDFLiteral(
                    o.text, lang=o.lang, datatype=node(o.datatype) if o.datatype else None
                )
            else:
                obj = node(o)
            g.add((node(s), node(p), obj))
    return g
