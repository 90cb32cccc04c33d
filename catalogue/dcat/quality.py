"""A dataset's metadata quality: the share of DCAT-AP's recommended properties it has.

Counted on the record as harvested, not on the DCAT output (which fills gaps such as a missing
publisher from the catalogue's own metadata)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalogue.model import Dataset

# DCAT-AP 3.0.1 recommended properties of a Dataset (and dct:description, mandatory but often
# missing in harvested records), plus a licence and a format for its distributions, which
# DCAT-AP.de requires and portals filter by.
CHECKS: tuple[tuple[str, str], ...] = (
    ("description", "dct:description"),
    ("contact_point", "dcat:contactPoint"),
    ("distribution", "dcat:distribution"),
    ("keyword", "dcat:keyword"),
    ("publisher", "dct:publisher"),
    ("spatial", "dct:spatial"),
    ("temporal", "dct:temporal"),
    ("theme", "dcat:theme"),
    ("licence", "dct:license"),
    ("format", "dct:format"),
)


@dataclass(frozen=True, slots=True)
class Quality:
    score: float
    """Share of the checked properties present, 0 to 1."""
    missing: tuple[str, ...]
    """The DCAT property names that are missing."""

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "missing": list(self.missing), "checked": len(CHECKS)}


def quality(dataset: Dataset) -> Quality:
    has_items = dataset.item_count > 0
    present = {
        "description": bool(dataset.description and dataset.description.strip()),
        "contact_point": bool(
            dataset.contact_point
            and (
                dataset.contact_point.email
                or dataset.contact_point.url
                or dataset.contact_point.phone
            )
        ),
        "distribution": bool(dataset.distributions) or has_items,
        "keyword": any(k.strip() for k in dataset.keywords),
        "publisher": dataset.publisher is not None,
        "spatial": dataset.spatial is not None,
        "temporal": bool(dataset.temporal and any(t and t != ".." for t in dataset.temporal)),
        "theme": bool(dataset.themes),
        "licence": bool(dataset.licence or any(d.licence for d in dataset.distributions)),
        "format": has_items or any(d.format or d.media_type for d in dataset.distributions),
    }
    missing = tuple(prop for name, prop in CHECKS if not present[name])
    return Quality(round(1 - len(missing) / len(CHECKS), 2), missing)
