"""Turtle and N-Triples text of :class:`~catalogue.dcat.triples.Triples`, written directly.

rdflib's serializers work on its own terms and stores and cost several times as much as
describing a dataset does; the subset of the syntax needed here is small: IRIs (prefixed where
the document declares the namespace), and strings with a language tag or a datatype. Literals
are written in the short quoted form with every character that form cannot hold escaped (quote,
backslash, line breaks and the other control characters), so no value can end a string early.
An IRI with a character an IRI cannot hold, or a malformed language tag, raises ``ValueError``
rather than being written as something that would not parse.
"""

from __future__ import annotations

import re

from catalogue.dcat.iris import RDF
from catalogue.dcat.triples import Lit, Term, Triples

_PN_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_IRI = re.compile(r'[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>"{}|^`\\]*')
_LANG = re.compile(r"[A-Za-z]+(-[A-Za-z0-9]+)*")
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')
_ESCAPES = {ord(c): f"\\u{ord(c):04X}" for c in map(chr, (*range(0x20), 0x7F))} | {
    ord("\\"): "\\\\",
    ord('"'): '\\"',
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    ord("\b"): "\\b",
    ord("\f"): "\\f",
}
_CACHE_SIZE = 4096
"""IRIs whose written form is kept: the vocabulary's and the mapping's own recur on every
dataset; a dataset's own IRIs never recur, and the cache is emptied when it is full."""


def quoted(text: str) -> str:
    """A string literal's quoted form (the same in Turtle and N-Triples)."""
    if _NEEDS_ESCAPE.search(text):
        text = text.translate(_ESCAPES)
    return f'"{text}"'


def checked_iri(iri: str) -> str:
    """``iri`` in angle brackets, if it is an absolute IRI these syntaxes can hold."""
    if not _IRI.fullmatch(iri):
        raise ValueError(f"not an absolute IRI that Turtle can hold: {iri!r}")
    return f"<{iri}>"


def _lang(tag: str) -> str:
    if not _LANG.fullmatch(tag):
        raise ValueError(f"not a language tag: {tag!r}")
    return "@" + tag


class _TermWriter:
    """Terms as text, with the written form of recurring IRIs kept."""

    def __init__(self) -> None:
        self._iris: dict[str, str] = {}

    def _write_iri(self, iri: str) -> str:
        return checked_iri(iri)

    def iri(self, iri: str) -> str:
        text = self._iris.get(iri)
        if text is None:
            if len(self._iris) >= _CACHE_SIZE:
                self._iris.clear()
            text = self._iris[iri] = self._write_iri(iri)
        return text

    def term(self, term: Term) -> str:
        if isinstance(term, Lit):
            if term.lang:
                return quoted(term.text) + _lang(term.lang)
            if term.datatype:
                return quoted(term.text) + "^^" + self.iri(term.datatype)
            return quoted(term.text)
        return self.iri(term)


class TurtleWriter(_TermWriter):
    """Turtle statements grouped by subject, using the prefixes the document declares."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        super().__init__()
        self.prefixes = prefixes
        self._by_namespace = {ns: prefix for prefix, ns in prefixes.items()}

    def header(self) -> str:
        return "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in self.prefixes.items())

    def _write_iri(self, iri: str) -> str:
        # a prefixed name's local part holds no "/" or "#", so its namespace ends at the last
        split = max(iri.rfind("/"), iri.rfind("#")) + 1
        prefix = self._by_namespace.get(iri[:split])
        if prefix is not None and _PN_LOCAL.fullmatch(iri, split):
            return f"{prefix}:{iri[split:]}"
        return checked_iri(iri)

    def statements(self, triples: Triples) -> str:
        iri, term, rdf_type = self.iri, self.term, RDF.type
        out = []
        for s, predicates in triples.subjects.items():
            types = predicates.get(rdf_type)
            parts = ["a " + ", ".join(map(term, types))] if types else []
            for p, objects in predicates.items():
                if p != rdf_type:
                    parts.append(iri(p) + " " + ", ".join(map(term, objects)))
            out.append(f"\n{iri(s)} " + " ;\n    ".join(parts) + " .\n")
        return "".join(out)


class NTriplesWriter(_TermWriter):
    """One triple a line, every IRI in full."""

    def statements(self, triples: Triples) -> str:
        iri, term = self.iri, self.term
        out = []
        for s, predicates in triples.subjects.items():
            subject = iri(s)
            for p, objects in predicates.items():
                predicate = iri(p)
                for o in objects:
                    out.append(f"{subject} {predicate} {term(o)} .\n")
        return "".join(out)
