"""An OAI-PMH repository stand-in for tests: ``ListRecords`` pages with resumption tokens
(and ``completeListSize``), ``from=`` and ``set=`` selection, deleted-record headers, OAI-PMH
errors, and ``ListSets`` answered from a recorded file. Records are metadata XML strings,
typically cut from recorded real responses."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from lxml import etree
from upstream import Upstream

PATH = "/oai"
OAI = "http://www.openarchives.org/OAI/2.0/"


def recorded_metadata(path: Path) -> str:
    """The metadata of a recorded GetRecord answer (or a bare LIDO file) as XML text."""
    root = etree.fromstring(path.read_bytes())
    found = root.find(f".//{{{OAI}}}metadata")
    element = found[0] if found is not None else root
    return etree.tostring(element, encoding="unicode")


@dataclass
class Record:
    identifier: str
    datestamp: str
    metadata: str | None = None
    sets: tuple[str, ...] = ()
    deleted: bool = False


@dataclass
class OAIRepository:
    upstream: Upstream
    page: int = 3
    records: list[Record] = field(default_factory=list)
    now: str = "2024-06-01T12:00:00Z"
    promise_extra: int = 0
    """Added to ``completeListSize`` (a repository that promises more than it delivers)."""
    error: str | None = None
    """An OAI-PMH error code every ListRecords answers with."""
    list_sets: Path | None = None
    loop: bool = False
    """The last page hands out the first resumption token again."""

    def __post_init__(self) -> None:
        self.upstream.routes[PATH] = self._answer

    @property
    def url(self) -> str:
        return self.upstream.url(PATH)

    def _answer(self, handler: SimpleHTTPRequestHandler) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        verb = query.get("verb")
        if verb == "ListSets" and self.list_sets is not None:
            self._send(handler, self.list_sets.read_bytes())
            return
        if verb != "ListRecords":
            self._send(handler, self._envelope(query, '<error code="badVerb">unsupported</error>'))
            return
        if self.error:
            self._send(handler, self._envelope(query, f'<error code="{self.error}">no</error>'))
            return
        token = query.get("resumptionToken")
        if token:
            start, selection = int(token.split(":")[0]), token.split(":", 1)[1]
            set_spec, since = selection.split("|")
        else:
            start, set_spec, since = 0, query.get("set", ""), query.get("from", "")
        chosen = [
            r
            for r in self.records
            if (not set_spec or set_spec in r.sets) and (not since or r.datestamp >= since)
        ]
        if not chosen:
            body = '<error code="noRecordsMatch">nothing changed</error>'
            self._send(handler, self._envelope(query, body))
            return
        page = chosen[start : start + self.page]
        parts = ["<ListRecords>"]
        for record in page:
            status = ' status="deleted"' if record.deleted else ""
            specs = "".join(f"<setSpec>{html.escape(s)}</setSpec>" for s in record.sets)
            parts.append(
                f"<record><header{status}><identifier>{html.escape(record.identifier)}"
                f"</identifier><datestamp>{record.datestamp}</datestamp>{specs}</header>"
            )
            if not record.deleted and record.metadata is not None:
                parts.append(f"<metadata>{record.metadata}</metadata>")
            parts.append("</record>")
        size = len(chosen) + self.promise_extra
        if start + self.page < len(chosen):
            following = f"{start + self.page}:{set_spec}|{since}"
            parts.append(
                f'<resumptionToken completeListSize="{size}" cursor="{start}">'
                f"{html.escape(following)}</resumptionToken>"
            )
        elif start > 0 and self.loop:
            again = f"{self.page}:{set_spec}|{since}"
            parts.append(
                f'<resumptionToken completeListSize="{size}" cursor="{start}">'
                f"{html.escape(again)}</resumptionToken>"
            )
        elif start > 0:
            parts.append(f'<resumptionToken completeListSize="{size}" cursor="{start}"/>')
        parts.append("</ListRecords>")
        self._send(handler, self._envelope(query, "".join(parts)))

    def _envelope(self, query: dict[str, str], body: str) -> bytes:
        attributes = "".join(f' {k}="{html.escape(v)}"' for k, v in query.items())
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI}">'
            f"<responseDate>{self.now}</responseDate><request{attributes}>{self.url}</request>"
            f"{body}</OAI-PMH>"
        ).encode()

    def _send(self, handler: SimpleHTTPRequestHandler, data: bytes) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/xml; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
