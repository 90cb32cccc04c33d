"""CSW 2.0.2 catalogues (GeoNetwork, FIS-Broker, pycsw …): GetRecords paged to the end, ISO 19139
records (read with OWSLib) or Dublin Core records mapped to dataset records, with their online
resources (services, downloads) as distributions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from owslib.csw import CswRecord
from owslib.iso import MD_Metadata
from pydantic import Field

from catalogue.errors import HarvestError
from catalogue.harvest.contract import HarvesterOptions, SourceHarvester
from catalogue.model import (
    Agent,
    Contact,
    Dataset,
    Distribution,
    Item,
    Notice,
    Problem,
    Provenance,
    stable_id,
)
from harvesters.gml import local
from harvesters.items import date_or_notice
from harvesters.safexml import parse_xml

ISO = "http://www.isotc211.org/2005/gmd"
DUBLIN_CORE = "http://www.opengis.net/cat/csw/2.0.2"


class CSWOptions(HarvesterOptions):
    output_schema: Literal["iso", "dc"] = "iso"
    """ISO 19139 (``gmd:MD_Metadata``) or Dublin Core (``csw:Record``)."""
    max_records: int = Field(100, ge=1, le=1000)
    """Records per GetRecords page."""
    constraint: str | None = None
    """An OGC CQL constraint, e.g. ``AnyText LIKE '%Düsseldorf%'``."""


class CSWHarvester(SourceHarvester):
    """Every record of a CSW catalogue as a dataset record."""

    Options: ClassVar[type[CSWOptions]] = CSWOptions
    options: CSWOptions

    def records(self) -> Iterator[Dataset | Item | Problem | Notice]:
        position = 1
        promised: int | None = None
        delivered = 0
        asked: set[int] = set()
        while position > 0:
            asked.add(position)
            results = self._page(position)
            promised = (
                promised if promised is not None else _int(results.get("numberOfRecordsMatched"))
            )
            for element in results:
                delivered += 1
                yield from self._record(element, delivered)
            following = _int(results.get("nextRecord")) or 0
            if following in asked:
                yield Notice(
                    f"nextRecord {following} was asked for before; paging stopped", incomplete=True
                )
                break
            if not len(results) or (promised is not None and following > promised):
                break
            position = following
        if promised is not None and delivered < promised:
            yield Notice(
                f"the catalogue promised {promised} records and delivered {delivered}",
                incomplete=True,
            )

    def _page(self, position: int) -> Any:
        iso = self.options.output_schema == "iso"
        params: dict[str, Any] = {
            "service": "CSW",
            "version": "2.0.2",
            "request": "GetRecords",
            "typeNames": "gmd:MD_Metadata" if iso else "csw:Record",
            "resultType": "results",
            "elementSetName": "full",
            "outputSchema": ISO if iso else DUBLIN_CORE,
            "startPosition": position,
            "maxRecords": self.options.max_records,
        }
        if iso:
            params["namespace"] = f"xmlns(gmd={ISO})"
        if self.options.constraint:
            params.update(
                {
                    "constraintLanguage": "CQL_TEXT",
                    "constraint_language_version": "1.1.0",
                    "constraint": self.options.constraint,
                }
            )
        response = self.client.get(self.endpoint, params=params)
        if response.status_code >= 400:
            raise HarvestError(f"HTTP {response.status_code} from {response.request.url}")
        root = parse_xml(response.content, self.endpoint)
        if local(root.tag) == "ExceptionReport":
            text = " ".join(t.strip() for t in root.itertext() if t.strip())
            raise HarvestError(f"{self.endpoint}: the catalogue reports: {text[:300]}")
        results = next((e for e in root.iter() if local(e.tag) == "SearchResults"), None)
        if results is None:
            raise HarvestError(f"{self.endpoint}: no csw:SearchResults in the GetRecords answer")
        return results

    def _record(self, element: Any, position: int) -> Iterator[Dataset | Problem | Notice]:
        try:
            if local(element.tag) in ("MD_Metadata", "MI_Metadata"):
                record, notices = self._from_iso(MD_Metadata(element))
            elif local(element.tag) == "Record":
                record, notices = self._from_dublin_core(CswRecord(element))
            else:
                yield Problem(f"record {position}", f"unexpected element {local(element.tag)}")
                return
        except (AttributeError, IndexError, TypeError, ValueError) as exc:
            yield Problem(f"record {position}", f"cannot read the record: {exc}")
            return
        if record is None:
            yield Problem(f"record {position}", "no identifier or no title")
            return
        for message in notices:
            yield Notice(message)
        yield record

    def _from_iso(self, md: Any) -> tuple[Dataset | None, list[str]]:
        # service records (SV_ServiceIdentification) lack some dataset attributes
        ident = md.identification[0] if md.identification else None
        if not md.identifier or ident is None or not ident.title:
            return None, []
        notices: list[str] = []
        keywords = [
            k.name
            for group in _attr(ident, "keywords") or ()
            for k in group.keywords or ()
            if k.name
        ]
        keywords.extend(t for t in _attr(ident, "topiccategory") or () if t)
        box = getattr(ident, "bbox", None) or getattr(
            getattr(ident, "extent", None), "boundingBox", None
        )
        spatial = None
        if box is not None:
            try:
                spatial = (float(box.minx), float(box.miny), float(box.maxx), float(box.maxy))
            except (TypeError, ValueError):
                notices.append(f"record {md.identifier}: bounding box left out")
        dates = {d.type: d.date for d in _attr(ident, "date") or () if d.date}
        contacts = list(_attr(ident, "contact") or ()) or list(md.contact or ())
        publisher = next(
            (c for c in contacts if c.role == "publisher"), contacts[0] if contacts else None
        )
        point = next((c for c in contacts if c.role == "pointOfContact"), publisher)

        def when(value: Any, label: str) -> str | None:
            return date_or_notice(value, f"record {md.identifier}: {label}", notices)

        online = md.distribution.online if md.distribution else []
        record = Dataset(
            id=stable_id(self.source.name, md.identifier),
            title=ident.title,
            description=ident.abstract or None,
            keywords=tuple(dict.fromkeys(keywords)),
            kind=self.source.kind,  # type: ignore[arg-type]
            publisher=Agent(publisher.organization or publisher.name, email=publisher.email or None)
            if publisher and (publisher.organization or publisher.name)
            else None,
            contact_point=Contact(
                name=point.organization or point.name,
                email=point.email or None,
                phone=point.phone or None,
            )
            if point
            else None,
            licence=next(iter(_attr(ident, "otherconstraints") or ()), None) or self.source.licence,
            access_rights=next(iter(_attr(ident, "accessconstraints") or ()), None)
            or self.source.access_rights,
            spatial=spatial,
            temporal=(
                when(_attr(ident, "temporalextent_start"), "start"),
                when(_attr(ident, "temporalextent_end"), "end"),
            )
            if _attr(ident, "temporalextent_start") or _attr(ident, "temporalextent_end")
            else None,
            issued=when(dates.get("publication") or dates.get("creation"), "publication date"),
            modified=when(dates.get("revision") or md.datestamp, "revision date"),
            language=tuple(x for x in (md.languagecode or md.language,) if x),
            landing_page=self.source.landing_page,
            distributions=tuple(
                Distribution(
                    url=o.url,
                    title=o.name or None,
                    description=o.description or None,
                    format=o.protocol or None,
                )
                for o in online
                if o.url
            ),
            extras={
                "hierarchy": md.hierarchy,
                "use_limitation": list(_attr(ident, "uselimitation") or ()),
            },
            provenance=self._provenance(md.identifier),
        ).with_hash()
        return record, notices

    def _from_dublin_core(self, rec: Any) -> tuple[Dataset | None, list[str]]:
        if not rec.identifier or not rec.title:
            return None, []
        notices: list[str] = []
        box = rec.bbox
        record = Dataset(
            id=stable_id(self.source.name, rec.identifier),
            title=rec.title,
            description=rec.abstract or None,
            keywords=tuple(rec.subjects or ()),
            kind=self.source.kind,  # type: ignore[arg-type]
            publisher=Agent(rec.publisher) if rec.publisher else None,
            licence=(rec.rights or [None])[0] or self.source.licence,
            spatial=(float(box.minx), float(box.miny), float(box.maxx), float(box.maxy))
            if box
            else None,
            modified=date_or_notice(
                rec.modified or rec.date, f"record {rec.identifier}: date", notices
            ),
            distributions=tuple(
                Distribution(
                    url=r["url"], title=r.get("name") or None, format=r.get("scheme") or None
                )
                for r in rec.references or ()
                if r.get("url")
            ),
            provenance=self._provenance(rec.identifier),
        ).with_hash()
        return record, notices

    def _provenance(self, identifier: str) -> Provenance:
        url = (
            f"{self.endpoint}?service=CSW&version=2.0.2&request=GetRecordById"
            f"&outputSchema={ISO}&elementSetName=full&id={identifier}"
        )
        return Provenance(self.source.name, self.source.type, url, identifier)


def _attr(obj: Any, name: str) -> Any:
    return getattr(obj, name, None)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
