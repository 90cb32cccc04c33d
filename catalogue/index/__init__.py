"""Index backends behind one protocol; found through the ``catalogue.index_backends`` group."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from catalogue.errors import ConfigError
from catalogue.index.protocol import (
    BriefSearch,
    ChangeTime,
    CollectionInfo,
    FeatureSearch,
    Index,
    Overran,
    UpsertStats,
)

if TYPE_CHECKING:
    from catalogue.settings import IndexSettings

__all__ = [
    "BriefSearch",
    "ChangeTime",
    "CollectionInfo",
    "FeatureSearch",
    "Index",
    "Overran",
    "UpsertStats",
    "backend_names",
    "open_index",
]

GROUP = "catalogue.index_backends"


def backend_names() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=GROUP))


def open_index(settings: IndexSettings, **options: Any) -> Index:
    """Open the index the settings name (creating its storage if needed).

    ``options`` are hints a backend may use, e.g. ``read_mostly=True`` for a serving process.
    """
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    if settings.backend not in found:
        raise ConfigError(
            f"index.backend: unknown backend {settings.backend!r} "
            f"(installed: {', '.join(sorted(found)) or 'none'})"
        )
    backend = found[settings.backend].load()
    return backend.from_settings(settings, **options)
