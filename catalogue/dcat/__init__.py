"""DCAT-AP / DCAT-AP.de / GeoDCAT-AP linked data from the record model.

- :mod:`catalogue.dcat.namespaces` — the RDF namespaces and prefixes; :mod:`catalogue.dcat.iris`
  the same as strings
- :mod:`catalogue.dcat.vocab` — SKOS vocabularies from ``vocab/`` and free-text mapping
- :mod:`catalogue.dcat.profiles` — the chainable profiles, writing
  :mod:`catalogue.dcat.triples`; :mod:`catalogue.dcat.graph` builds
- :mod:`catalogue.dcat.serialize` — streamed Turtle, RDF/XML, JSON-LD, N-Triples (written by
  :mod:`catalogue.dcat.turtle` and :mod:`catalogue.dcat.json_ld`, RDF/XML by rdflib)
- :mod:`catalogue.dcat.service`, :mod:`catalogue.dcat.routes` — ``/dcat`` over the index
- :mod:`catalogue.dcat.validation` — pySHACL against the official shapes
- :mod:`catalogue.dcat.quality` — the share of recommended properties a dataset has
"""
