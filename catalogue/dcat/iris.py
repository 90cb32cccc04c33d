"""The namespaces of :mod:`catalogue.dcat.namespaces` with plain ``str`` terms, which is what
the DCAT mapping writes (see :mod:`catalogue.dcat.triples`): ``DCAT.Dataset`` is the string
``"http://www.w3.org/ns/dcat#Dataset"``, made once per process and then a plain attribute."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DefinedNamespace

from catalogue.dcat import namespaces as ns


class IRIs:
    """The terms of one namespace as ``str``; a closed rdflib namespace checks each name once
    (on first use), as it does for its own terms."""

    def __init__(self, namespace: Namespace | type[DefinedNamespace]) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        value = str(self._namespace[name])
        setattr(self, name, value)
        return value

    def __getitem__(self, name: str) -> str:
        return getattr(self, name)


DCAT = IRIs(ns.DCAT)
DCATDE = IRIs(ns.DCATDE)
DCTERMS = IRIs(ns.DCTERMS)
FOAF = IRIs(ns.FOAF)
GSP = IRIs(ns.GSP)
HYDRA = IRIs(ns.HYDRA)
LOCN = IRIs(ns.LOCN)
PROV = IRIs(ns.PROV)
RDF = IRIs(ns.RDF)
RDFS = IRIs(ns.RDFS)
SKOS = IRIs(ns.SKOS)
VCARD = IRIs(ns.VCARD)
XSD = IRIs(ns.XSD)
