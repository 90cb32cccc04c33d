"""What the DCAT profiles need to know besides a dataset: the catalogue's own metadata and
URLs, the DCAT settings and the vocabularies; plus a record of values that could not be mapped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import quote

from catalogue.dcat.vocab import Unmapped, Vocabularies
from catalogue.model import Agent, slug
from catalogue.settings import CatalogueSettings, DCATSettings


@dataclass
class DCATContext:
    base_url: str
    catalogue: CatalogueSettings
    options: DCATSettings
    vocab: Vocabularies
    unmapped: Counter[Unmapped] = field(default_factory=Counter)
    """Harvested values no vocabulary concept stands for, with how often they were met."""
    record_unmapped: bool = False
    """Keep what could not be mapped (the validator does; a server serving requests does not)."""

    @cached_property
    def catalog_uri(self) -> str:
        return f"{self.base_url}/dcat/catalog"

    def dataset_uri(self, dataset_id: str) -> str:
        return f"{self.base_url}/dcat/dataset/{quote(dataset_id, safe='')}"

    def agent_uri(self, agent: Agent) -> str:
        return f"{self.base_url}/dcat/agent/{slug(agent.name)}"

    def items_url(self, dataset_id: str, f: str) -> str:
        return f"{self.base_url}/ogc/collections/{quote(dataset_id, safe='')}/items?f={f}"

    @cached_property
    def publisher(self) -> Agent:
        """The catalogue's publisher as configured, else the catalogue itself as an agent."""
        p = self.catalogue.publisher
        if p is not None:
            return Agent(p.name, url=p.url, email=p.email, identifier=p.identifier)
        return Agent(self.catalogue.title, url=self.catalogue.homepage)

    def report(self, dataset_id: str, vocabulary: str, value: str) -> None:
        if not self.record_unmapped:
            return
        self.unmapped[Unmapped(vocabulary, value)] += 1

    def map(self, dataset_id: str, vocabulary: str, value: str | None) -> str | None:
        """The concept ``value`` names; an unmapped value is recorded, never guessed."""
        if not value:
            return None
        concept = self.vocab.concept(vocabulary, value)
        if concept is None:
            self.report(dataset_id, vocabulary, value)
        return concept
