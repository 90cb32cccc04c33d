"""Compacted JSON-LD node objects of :class:`~catalogue.dcat.triples.Triples`.

The project's context (``vocab/dcat-context.jsonld``) declares prefixes only. For such a context
JSON-LD 1.1 compaction comes down to a few rules, applied here directly instead of running pyld
per page (about 3 ms per dataset): an IRI becomes the shortest (then least) compact IRI
``prefix:rest`` whose prefix it starts with (in the places where terms may be used, an IRI equal
to a prefix's becomes that term); a plain string literal becomes the string; one value
stands alone, several form an array; keys follow the expanded IRIs' order. Any other context
(terms with a type, a language, ``@vocab`` …) is compacted by pyld, as before. The tests compare
both on hostile data.
"""

from __future__ import annotations

import re
from typing import Any

from pyld import jsonld

from catalogue.dcat.iris import RDF
from catalogue.dcat.triples import Lit, Term, Triples

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_GEN_DELIMS = tuple(":/?#[]@")
_CACHE_SIZE = 4096


def prefixes_only(context: dict[str, Any]) -> dict[str, str] | None:
    """The prefixes of a context that declares nothing else (then compaction is the rules this
    module applies), else None."""
    terms: dict[str, str] = {}
    for term, value in context.items():
        if not isinstance(value, str) or not term or term.startswith("@") or ":" in term:
            return None
        scheme = _SCHEME.match(value)
        if scheme is None or not value.endswith(_GEN_DELIMS):
            return None
        terms[term] = value
    schemes = {m.group(1) for v in terms.values() if (m := _SCHEME.match(v))}
    if schemes & terms.keys() or len(set(terms.values())) != len(terms):
        # a prefix that names another's scheme, or two prefixes for one namespace: leave
        # such contexts to pyld
        return None
    return terms


def expanded_nodes(triples: Triples) -> list[dict[str, Any]]:
    """Triples as expanded JSON-LD node objects, one per subject."""
    nodes = []
    for s, predicates in triples.subjects.items():
        node: dict[str, Any] = {"@id": s}
        for p, objects in predicates.items():
            if p == RDF.type:
                node["@type"] = list(objects)  # type: ignore[arg-type]
            else:
                node[p] = [_expanded_value(o) for o in objects]
        nodes.append(node)
    return nodes


def _expanded_value(term: Term) -> dict[str, str]:
    if isinstance(term, Lit):
        if term.lang:
            return {"@value": term.text, "@language": term.lang}
        if term.datatype:
            return {"@value": term.text, "@type": term.datatype}
        return {"@value": term.text}
    return {"@id": term}


class Compactor:
    """Compacts triples with one context: directly for a prefix-only context, else by pyld."""

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context
        self.prefixes = prefixes_only(context)
        self._namespaces = tuple((self.prefixes or {}).values())
        self._confusable = tuple(f"{term}:" for term in self.prefixes or ())
        self._ids: dict[str, str] = {}
        self._vocab: dict[str, str] = {}

    def nodes(self, parts: list[Triples]) -> list[dict[str, Any]]:
        """The compacted node objects of ``parts``, in order."""
        if self.prefixes is None:
            return self.with_pyld([n for t in parts for n in expanded_nodes(t)])
        return [node for t in parts for node in self._nodes(t)]

    def with_pyld(self, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Expanded node objects compacted by pyld (the context left out)."""
        if not nodes:
            return []
        compacted = jsonld.compact(nodes, {"@context": self.context}, {"skipExpansion": True})
        compacted.pop("@context", None)
        if "@graph" in compacted:
            return list(compacted["@graph"])
        return [compacted] if compacted else []

    def _nodes(self, triples: Triples) -> list[dict[str, Any]]:
        rdf_type, value = RDF.type, self._value
        out = []
        for s, predicates in triples.subjects.items():
            node: dict[str, Any] = {"@id": self._id(s)}
            types = predicates.get(rdf_type)
            if types:
                names = [self._vocab_iri(t) for t in types if isinstance(t, str)]
                node["@type"] = names[0] if len(names) == 1 else names
            # pyld writes the properties in the order of their expanded IRIs
            for p in sorted(predicates):
                if p == rdf_type:
                    continue
                values = [value(o) for o in predicates[p]]
                node[self._vocab_iri(p)] = values[0] if len(values) == 1 else values
            out.append(node)
        return out

    def _value(self, term: Term) -> Any:
        if isinstance(term, Lit):
            if term.lang:
                return {"@language": term.lang, "@value": term.text}
            if term.datatype:
                return {"@type": self._vocab_iri(term.datatype), "@value": term.text}
            return term.text
        return {"@id": self._id(term)}

    def _id(self, iri: str) -> str:
        text = self._ids.get(iri)
        if text is None:
            if len(self._ids) >= _CACHE_SIZE:
                self._ids.clear()
            text = self._ids[iri] = self._compact(iri, vocab=False)
        return text

    def _vocab_iri(self, iri: str) -> str:
        text = self._vocab.get(iri)
        if text is None:
            if len(self._vocab) >= _CACHE_SIZE:
                self._vocab.clear()
            text = self._vocab[iri] = self._compact(iri, vocab=True)
        return text

    def _compact(self, iri: str, vocab: bool) -> str:
        assert self.prefixes is not None
        best: str | None = None
        if iri.startswith(self._namespaces):  # most of a dataset's own IRIs are in none
            for term, namespace in self.prefixes.items():
                if iri == namespace:
                    if vocab:
                        return term
                    continue
                if iri.startswith(namespace):
                    curie = f"{term}:{iri[len(namespace) :]}"
                    if best is None or (len(curie), curie) < (len(best), best):
                        best = curie
        if best is not None:
            return best
        if iri.startswith(self._confusable):
            raise ValueError(f"the IRI {iri!r} would read as a compact IRI")
        return iri
