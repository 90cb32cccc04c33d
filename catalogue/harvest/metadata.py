"""Dataset metadata a source's configuration gives (title, licence, publisher …)."""

from __future__ import annotations

from typing import Any

from catalogue.model import Agent, Contact, Dataset, Distribution, Provenance, stable_id
from catalogue.settings import SourceSettings


def configured_dataset(
    source: SourceSettings,
    *,
    identifier: str | None = None,
    distributions: tuple[Distribution, ...] = (),
    **overrides: Any,
) -> Dataset:
    """A dataset record from the metadata configured for ``source``.

    ``identifier`` is the source's own id of the dataset (the source name for one-file sources);
    ``overrides`` replace configured values with what the source itself says.
    """
    identifier = identifier or source.name
    values: dict[str, Any] = {
        "id": stable_id(source.name, identifier),
        "title": source.title or source.name,
        "description": source.description,
        "keywords": tuple(source.keywords),
        "themes": tuple(source.themes),
        "kind": source.kind,
        "licence": source.licence,
        "access_rights": source.access_rights,
        "language": tuple(source.language),
        "landing_page": source.landing_page,
        "publisher": Agent(**source.publisher.model_dump()) if source.publisher else None,
        "contact_point": Contact(**source.contact.model_dump()) if source.contact else None,
        "distributions": distributions,
        "provenance": Provenance(
            source_name=source.name,
            source_type=source.type,
            source_url=source.url,
            source_identifier=identifier,
        ),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Dataset(**values).with_hash()
