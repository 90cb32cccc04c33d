"""Controlled vocabularies (SKOS Turtle in the ``vocab/`` folder) and the mapping from the free
text harvested sources use (``dl-de/by-2-0``, ``CC BY 4.0``, ``GeoJSON``, ``deu``) to concept URIs.

A value is mapped when it is a concept's URI, notation, preferred, alternative or hidden label
(compared without case and surrounding space, and without a trailing slash for URLs). Nothing is
guessed: an unmapped value stays unmapped and the validator reports it.
"""

from __future__ import annotations

import logging
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, SKOS

from catalogue.dcat.namespaces import (
    ACCESS_RIGHT,
    DATA_THEME,
    FILE_TYPE,
    FREQUENCY,
    GEOCODING_LEVEL,
    LANGUAGE,
    LICENCES,
)
from catalogue.errors import ConfigError

log = logging.getLogger("catalogue.dcat.vocab")

SCHEMES: dict[str, str] = {
    "theme": DATA_THEME,
    "licence": LICENCES,
    "file_type": FILE_TYPE,
    "language": LANGUAGE,
    "access_right": ACCESS_RIGHT,
    "frequency": FREQUENCY,
    "geocoding_level": GEOCODING_LEVEL,
}
"""The vocabularies the DCAT output maps values into, by the name the code uses for them."""

INSTALLED_VOCAB = Path("share") / "open-urban-catalogue" / "vocab"
"""Where a (non-editable) installation puts the vocab folder, under the installation prefix."""


def default_vocab_dir() -> Path:
    """The vocab folder of a source checkout (editable install), else of the installation."""
    checkout = Path(__file__).resolve().parents[2] / "vocab"
    if checkout.is_dir():
        return checkout
    for prefix in (sysconfig.get_path("data"), sys.prefix, sys.base_prefix):
        installed = Path(prefix) / INSTALLED_VOCAB
        if installed.is_dir():
            return installed
    return checkout


@dataclass(frozen=True, slots=True)
class Unmapped:
    """A harvested value no concept of the vocabulary stands for."""

    vocabulary: str
    value: str


class Vocabularies:
    """All vocabularies of one folder, loaded once, with lookups by free text."""

    def __init__(self, graph: Graph, folder: Path | None = None) -> None:
        self.graph = graph
        self.folder = folder
        # plain strings, as the DCAT mapping writes them (see catalogue.dcat.triples)
        self._lookup: dict[str, dict[str, str]] = {name: {} for name in SCHEMES}
        self._media_types: dict[str, str] = {}
        self._labels: dict[str, list[tuple[str | None, str]]] = {}
        by_scheme = {URIRef(uri): name for name, uri in SCHEMES.items()}
        for concept, scheme in graph.subject_objects(SKOS.inScheme):
            name = by_scheme.get(scheme)  # type: ignore[call-overload]
            if name is None or not isinstance(concept, URIRef):
                continue
            table = self._lookup[name]
            table[_key(str(concept))] = str(concept)
            for prop in (SKOS.notation, SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel):
                for label in graph.objects(concept, prop):
                    table.setdefault(_key(str(label)), str(concept))
            for media in graph.objects(concept, DCAT.mediaType):
                self._media_types[str(concept)] = str(media)
        for concept, label in graph.subject_objects(SKOS.prefLabel):
            self._labels.setdefault(str(concept), []).append(
                (getattr(label, "language", None), str(label))
            )
        # the last path segment of a concept URI (e.g. "DEU", "cc-zero") is how sources
        # often abbreviate it; it never overrides a label
        for table in self._lookup.values():
            for uri in list(table.values()):
                table.setdefault(_key(uri.rsplit("/", 1)[-1]), uri)
        # the licence list keys its concepts by paths such as "dl-by-de/2.0"
        licences = self._lookup["licence"]
        for uri in list(licences.values()):
            licences.setdefault(_key(uri.removeprefix(LICENCES + "/")), uri)

    @classmethod
    def load(cls, folder: Path | None = None) -> Vocabularies:
        """Parse every ``*.ttl`` file of ``folder`` (default: :func:`default_vocab_dir`)."""
        folder = folder or default_vocab_dir()
        files = sorted(folder.glob("*.ttl")) if folder.is_dir() else []
        if not files:
            raise ConfigError(f"dcat.vocab_dir: no vocabulary files (*.ttl) in {folder}")
        graph = Graph()
        for path in files:
            try:
                graph.parse(path, format="turtle")
            except Exception as exc:  # rdflib raises many kinds of parse errors
                raise ConfigError(f"{path}: not valid Turtle: {exc}") from None
        log.info(
            "vocabularies loaded folder=%s files=%d triples=%d", folder, len(files), len(graph)
        )
        return cls(graph, folder)

    def concept(self, vocabulary: str, value: str | None) -> str | None:
        """The concept of ``vocabulary`` that ``value`` names, or None."""
        if not value:
            return None
        return self._lookup[vocabulary].get(_key(value))

    def media_type_of(self, file_type: str) -> str | None:
        """The IANA media type the vocabulary gives for a file type."""
        return self._media_types.get(file_type)

    def label(self, concept: str, lang: str = "en") -> str | None:
        labels = self._labels.get(concept, [])
        for label_lang, text in labels:
            if label_lang == lang:
                return text
        return labels[0][1] if labels else None

    def in_scheme(self, vocabulary: str, concept: str) -> bool:
        return (URIRef(concept), SKOS.inScheme, URIRef(SCHEMES[vocabulary])) in self.graph


def _key(text: str) -> str:
    key = " ".join(text.split()).casefold()
    if key.startswith(("http://", "https://")):
        key = key.split("://", 1)[1].rstrip("/")
    return key
