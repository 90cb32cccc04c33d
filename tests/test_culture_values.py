"""Rights statements and dates as cultural records write them, read as users need them."""

from __future__ import annotations

import pytest

from harvesters.culture import item_id, normalize_rights, period_of


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("CC BY-SA 4.0", "http://creativecommons.org/licenses/by-sa/4.0/"),
        ("Creative Commons (CC-BY-NC-ND) 3.0", "http://creativecommons.org/licenses/by-nc-nd/3.0/"),
        (
            "https://creativecommons.org/licenses/by/4.0/deed.de",
            "http://creativecommons.org/licenses/by/4.0/",
        ),
        ("CC0 1.0 Universell", "http://creativecommons.org/publicdomain/zero/1.0/"),
        ("Public Domain Mark 1.0", "http://creativecommons.org/publicdomain/mark/1.0/"),
        (
            "https://rightsstatements.org/page/InC-EDU/1.0/?language=de",
            "http://rightsstatements.org/vocab/InC-EDU/1.0/",
        ),
        ("In Copyright", "http://rightsstatements.org/vocab/InC/1.0/"),
        ("Alle Rechte beim Stadtarchiv", "Alle Rechte beim Stadtarchiv"),
        (None, None),
    ],
)
def test_rights_become_uris_where_recognizable(given: str | None, expected: str | None) -> None:
    assert normalize_rights(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("1942", ("1942-01-01", "1942-12-31")),
        ("1665 - 1665", ("1665-01-01", "1665-12-31")),
        ("ca. 1480", ("1480-01-01", "1480-12-31")),
        ("1477/1482", ("1477-01-01", "1482-12-31")),
        ("10.03.1869", ("1869-03-10", "1869-03-10")),
        ("1869-03-10", ("1869-03-10", "1869-03-10")),
        ("[1787]", ("1787-01-01", "1787-12-31")),
        ("16. Jahrhundert", ("1501-01-01", "1600-12-31")),
        ("17th century", ("1601-01-01", "1700-12-31")),
        ("1900-1850", None),
        ("31.02.1900", None),
        ("irgendwann", None),
    ],
)
def test_dates_and_periods_become_intervals(given: str, expected: tuple[str, str] | None) -> None:
    assert period_of(given) == expected


def test_item_ids_are_url_safe_and_stable() -> None:
    assert item_id("oai:museum-digital:78541") == "oai:museum-digital:78541"
    made = item_id("http://data.europeana.eu/item/2021672/resource_document_mauritshuis_670")
    assert "/" not in made and made == item_id(
        "http://data.europeana.eu/item/2021672/resource_document_mauritshuis_670"
    )
    assert made != item_id(
        "http://data.europeana.eu/item/2021672/resource_document_mauritshuis_671"
    )
