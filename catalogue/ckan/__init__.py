"""A read-only, CKAN-compatible Action API over the index, for CKAN harvesters and ckanapi."""
