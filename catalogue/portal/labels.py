"""Words for the URIs records carry: EU data themes, licences, rights statements.

A URI without a known label is shown as it is (and linked); nothing is guessed.
"""

from __future__ import annotations

EU_THEMES = "http://publications.europa.eu/resource/authority/data-theme/"
DCATDE_LICENCES = "http://dcat-ap.de/def/licenses/"

# (English, German) names of the EU data themes (the EU Publications Office's labels)
THEMES: dict[str, tuple[str, str]] = {
    "AGRI": (
        "Agriculture, fisheries, forestry and food",
        "Landwirtschaft, Fischerei, Forstwirtschaft und Nahrungsmittel",
    ),
    "ECON": ("Economy and finance", "Wirtschaft und Finanzen"),
    "EDUC": ("Education, culture and sport", "Bildung, Kultur und Sport"),
    "ENER": ("Energy", "Energie"),
    "ENVI": ("Environment", "Umwelt"),
    "GOVE": ("Government and public sector", "Regierung und öffentlicher Sektor"),
    "HEAL": ("Health", "Gesundheit"),
    "INTR": ("International issues", "Internationale Themen"),
    "JUST": (
        "Justice, legal system and public safety",
        "Justiz, Rechtssystem und öffentliche Sicherheit",
    ),
    "REGI": ("Regions and cities", "Regionen und Städte"),
    "SOCI": ("Population and society", "Bevölkerung und Gesellschaft"),
    "TECH": ("Science and technology", "Wissenschaft und Technologie"),
    "TRAN": ("Transport", "Verkehr"),
}

# DCAT-AP.de licence ids and Creative Commons URIs → (English, German)
LICENCES: dict[str, tuple[str, str]] = {
    DCATDE_LICENCES + "dl-by-de/2.0": (
        "Data licence Germany – attribution – version 2.0",
        "Datenlizenz Deutschland – Namensnennung – Version 2.0",
    ),
    DCATDE_LICENCES + "dl-zero-de/2.0": (
        "Data licence Germany – Zero – version 2.0",
        "Datenlizenz Deutschland – Zero – Version 2.0",
    ),
    DCATDE_LICENCES + "cc-zero": (
        "Creative Commons Zero (public domain dedication)",
        "Creative Commons Zero (Verzicht auf Urheberrechte)",
    ),
    DCATDE_LICENCES + "cc-by/4.0": (
        "Creative Commons Attribution 4.0 International",
        "Creative Commons Namensnennung 4.0 International",
    ),
    DCATDE_LICENCES + "cc-by-sa/4.0": (
        "Creative Commons Attribution – ShareAlike 4.0 International",
        "Creative Commons Namensnennung – Weitergabe unter gleichen Bedingungen 4.0 International",
    ),
    DCATDE_LICENCES + "odbl": ("Open Database License (ODbL)", "Open Database License (ODbL)"),
    "http://creativecommons.org/publicdomain/zero/1.0/": (
        "Creative Commons Zero (public domain dedication)",
        "Creative Commons Zero (Verzicht auf Urheberrechte)",
    ),
    "http://creativecommons.org/publicdomain/mark/1.0/": ("Public domain", "Gemeinfrei"),
    "http://creativecommons.org/licenses/by/4.0/": (
        "Creative Commons Attribution 4.0 International",
        "Creative Commons Namensnennung 4.0 International",
    ),
    "http://creativecommons.org/licenses/by-sa/4.0/": (
        "Creative Commons Attribution – ShareAlike 4.0 International",
        "Creative Commons Namensnennung – Weitergabe unter gleichen Bedingungen 4.0 International",
    ),
    "http://creativecommons.org/licenses/by-nc-sa/4.0/": (
        "Creative Commons Attribution – NonCommercial – ShareAlike 4.0 International",
        "Creative Commons Namensnennung – Nicht kommerziell – Weitergabe unter gleichen "
        "Bedingungen 4.0 International",
    ),
}

# rightsstatements.org statements (their English names and the German translations they publish)
RIGHTS: dict[str, tuple[str, str]] = {
    "InC": ("In copyright", "Urheberrechtsschutz"),
    "InC-EDU": (
        "In copyright – educational use permitted",
        "Urheberrechtsschutz – Nutzung für Bildungszwecke erlaubt",
    ),
    "InC-NC": (
        "In copyright – non-commercial use permitted",
        "Urheberrechtsschutz – nicht kommerzielle Nutzung erlaubt",
    ),
    "InC-OW-EU": ("In copyright – EU orphan work", "Urheberrechtsschutz – verwaistes Werk (EU)"),
    "InC-RUU": (
        "In copyright – rights-holder(s) unlocatable or unidentifiable",
        "Urheberrechtsschutz – Rechteinhaber nicht auffindbar oder nicht identifizierbar",
    ),
    "NoC-CR": (
        "No copyright – contractual restrictions",
        "Kein Urheberrechtsschutz – vertragliche Einschränkungen",
    ),
    "NoC-NC": (
        "No copyright – non-commercial use only",
        "Kein Urheberrechtsschutz – nur nicht kommerzielle Nutzung",
    ),
    "NoC-OKLR": (
        "No copyright – other known legal restrictions",
        "Kein Urheberrechtsschutz – andere rechtliche Einschränkungen",
    ),
    "NoC-US": ("No copyright – United States", "Kein Urheberrechtsschutz – Vereinigte Staaten"),
    "CNE": ("Copyright not evaluated", "Urheberrechtsschutz nicht bewertet"),
    "UND": ("Copyright undetermined", "Urheberrechtsschutz nicht ermittelt"),
    "NKC": ("No known copyright", "Kein Urheberrechtsschutz bekannt"),
}


def _pick(names: tuple[str, str], language: str) -> str:
    return names[1] if language == "de" else names[0]


def theme_label(uri: str, language: str) -> str:
    code = uri.rsplit("/", 1)[-1].upper()
    names = THEMES.get(code) if uri.startswith(EU_THEMES) or uri.upper() == code else None
    return _pick(names, language) if names else uri


def _normalise(uri: str) -> str:
    text = uri.strip().replace("https://", "http://")
    if "creativecommons.org/" in text and not text.endswith("/"):
        text += "/"
    return text


def licence_label(uri: str | None, language: str) -> str | None:
    """A licence in words; ``None`` for none; the URI itself when it is not known."""
    if not uri:
        return None
    text = _normalise(uri)
    names = LICENCES.get(text) or LICENCES.get(DCATDE_LICENCES + text)
    return _pick(names, language) if names else uri


def rights_label(value: str | None, language: str) -> str | None:
    """A rights statement (rightsstatements.org or Creative Commons URI) in words."""
    if not value:
        return None
    text = _normalise(value)
    if "rightsstatements.org/" in text:
        code = text.rstrip("/").split("/vocab/")[-1].split("/")[0]
        names = RIGHTS.get(code)
        return _pick(names, language) if names else value
    return licence_label(value, language)


def is_link(value: str | None) -> bool:
    return bool(value) and str(value).startswith(("http://", "https://"))
