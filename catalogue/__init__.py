"""Open Urban Catalogue: one catalogue of a city's open data."""

__version__ = "0.1.0"
