"""The web app: one Starlette app serving the OGC APIs and the catalogue's own routes."""

from catalogue.web.app import create_app

__all__ = ["create_app"]
