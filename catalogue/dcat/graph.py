"""The DCAT description of the catalogue, built from dataset records by the configured profiles.

A catalogue is written as its own node plus one small set of triples per dataset, so a
serializer can stream any number of datasets without holding them all; an rdflib graph is made
only where one is needed (validation).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rdflib import Graph, URIRef

from catalogue.dcat.context import DCATContext
from catalogue.dcat.namespaces import bind_prefixes
from catalogue.dcat.profiles import Profile, profile_chain
from catalogue.dcat.triples import Triples
from catalogue.dcat.vocab import Vocabularies, default_vocab_dir
from catalogue.model import Dataset
from catalogue.settings import Settings


class DCATBuilder:
    """Builds the DCAT triples of one catalogue configuration."""

    def __init__(self, ctx: DCATContext) -> None:
        self.ctx = ctx
        self.profiles: list[Profile] = profile_chain(ctx.options.profiles, ctx)
        self._catalog: Triples | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, vocab: Vocabularies | None = None, base_url: str | None = None
    ) -> DCATBuilder:
        vocab = vocab or Vocabularies.load(vocab_dir(settings))
        ctx = DCATContext(
            base_url=(base_url or settings.server.base_url()).rstrip("/"),
            catalogue=settings.catalogue,
            options=settings.dcat,
            vocab=vocab,
        )
        return cls(ctx)

    def catalog_triples(self) -> Triples:
        """The catalogue node alone (its datasets link themselves to it); made once, since it
        depends on the configuration only. Callers must not add to it."""
        if self._catalog is None:
            catalog = Triples()
            for profile in self.profiles:
                profile.graph_catalog(catalog, self.ctx.catalog_uri)
            self._catalog = catalog
        return self._catalog

    def dataset_triples(self, dataset: Dataset) -> Triples:
        """One dataset with its distributions and the resources they reference."""
        triples = Triples()
        node = self.ctx.dataset_uri(dataset.id)
        for profile in self.profiles:
            profile.graph_dataset(triples, node, dataset)
        return triples

    def dataset_graph(self, dataset: Dataset, graph: Graph | None = None) -> Graph:
        """One dataset as an rdflib graph (added to ``graph`` when given)."""
        return self.dataset_triples(dataset).graph(graph)

    def dataset_uri(self, dataset_id: str) -> URIRef:
        return URIRef(self.ctx.dataset_uri(dataset_id))

    def whole_graph(self, datasets: Iterable[Dataset]) -> Graph:
        """Catalogue and datasets in one rdflib graph (for validation and small catalogues)."""
        g = bind_prefixes(self.catalog_triples().graph())
        for dataset in datasets:
            self.dataset_graph(dataset, g)
        return g


def vocab_dir(settings: Settings) -> Path:
    """The configured vocab folder (relative to the configuration file), or the default."""
    folder = settings.dcat.vocab_dir
    if folder is None:
        return default_vocab_dir()
    folder = folder.expanduser()
    if not folder.is_absolute() and settings.config_path is not None:
        folder = settings.config_path.parent / folder
    return folder.resolve()
