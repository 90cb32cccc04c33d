"""Every RDF namespace the DCAT output uses, in one place, with the prefixes it is written with."""

from __future__ import annotations

from rdflib import Graph, Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, XSD

ADMS = Namespace("http://www.w3.org/ns/adms#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
GEODCATAP = Namespace("http://data.europa.eu/930/")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
DATA_THEME = EU_AUTHORITY + "data-theme"
FILE_TYPE = EU_AUTHORITY + "file-type"
LANGUAGE = EU_AUTHORITY + "language"
ACCESS_RIGHT = EU_AUTHORITY + "access-right"
FREQUENCY = EU_AUTHORITY + "frequency"
LICENCES = "http://dcat-ap.de/def/licenses"
GEOCODING_LEVEL = "http://dcat-ap.de/def/politicalGeocoding/Level"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

PREFIXES: dict[str, str] = {
    "adms": str(ADMS),
    "dcat": str(DCAT),
    "dcatap": str(DCATAP),
    "dcatde": str(DCATDE),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "geodcatap": str(GEODCATAP),
    "gsp": str(GSP),
    "hydra": str(HYDRA),
    "locn": str(LOCN),
    "owl": str(OWL),
    "prov": str(PROV),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "skos": str(SKOS),
    "vcard": str(VCARD),
    "xsd": str(XSD),
}


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the project's prefixes (and only them) so every serialization reads the same."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


__all__ = [
    "ACCESS_RIGHT",
    "ADMS",
    "DATA_THEME",
    "DCAT",
    "DCATAP",
    "DCATDE",
    "DCTERMS",
    "FILE_TYPE",
    "FOAF",
    "FREQUENCY",
    "GEOCODING_LEVEL",
    "GEODCATAP",
    "GSP",
    "HYDRA",
    "IANA_MEDIA_TYPES",
    "LANGUAGE",
    "LICENCES",
    "LOCN",
    "OWL",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "SKOS",
    "VCARD",
    "XSD",
    "bind_prefixes",
]
