"""The DCAT graph of the catalogue, built from dataset records by the configured profiles.

A catalogue is written as its own node plus one small graph per dataset, so a serializer can
stream any number of datasets without holding the whole graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from rdflib import Graph, URIRef

from catalogue.dcat.context import DCATContext
from catalogue.dcat.namespaces import bind_prefixes
from catalogue.dcat.profiles import Profile, profile_chain
from catalogue.dcat.vocab import Vocabularies, default_vocab_dir
from catalogue.model import Dataset
from catalogue.settings import Settings


class DCATBuilder:
    """Builds DCAT graphs for one catalogue configuration."""

    def __init__(self, ctx: DCATContext) -> None:
        self.ctx = ctx
        self.profiles: list[Profile] = profile_chain(ctx.options.profiles, ctx)

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

    def catalog_graph(self) -> Graph:
        """The catalogue node alone (its datasets link themselves to it)."""
        g = bind_prefixes(Graph())
        for profile in self.profiles:
            profile.graph_catalog(g, self.ctx.catalog_uri)
        return g

    def dataset_graph(self, dataset: Dataset, graph: Graph | None = None) -> Graph:
        """One dataset with its distributions and the resources they reference."""
        # a bare in-memory store: binding prefixes and indexing cost more than building
        g = graph if graph is not None else Graph(store="SimpleMemory")
        node = self.dataset_uri(dataset.id)
        for profile in self.profiles:
            profile.graph_dataset(g, node, dataset)
        return g

    def dataset_uri(self, dataset_id: str) -> URIRef:
        return self.ctx.dataset_uri(dataset_id)

    def graphs(self, datasets: Iterable[Dataset]) -> Iterator[Graph]:
        """The catalogue node, then one graph per dataset."""
        yield self.catalog_graph()
        for dataset in datasets:
            yield self.dataset_graph(dataset)

    def whole_graph(self, datasets: Iterable[Dataset]) -> Graph:
        """Catalogue and datasets in one graph (for validation and small catalogues)."""
        g = self.catalog_graph()
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
