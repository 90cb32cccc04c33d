"""The HTML portal at ``/``: search with facets, dataset, sensor and cultural-object pages,
the harvest status; German and English; no third-party requests."""

from catalogue.portal.routes import Portal

__all__ = ["Portal"]
