"""An upsert's records in batches, items prepared on the way (those prepared elsewhere pass)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from catalogue.index.sqlite.rows import ItemRows, prepare_items
from catalogue.model import Dataset, Item


def upsert_batches(
    records: Iterable[Dataset | Item | ItemRows], size: int
) -> Iterator[list[Dataset | ItemRows]]:
    """The records in batches of about ``size`` items, items prepared (those prepared
    elsewhere, :class:`ItemRows`, pass as they are). When the records fail after items, what
    came before is handed out before the failure is raised (a source failing before its
    first item leaves no empty dataset behind)."""
    batch: list[Dataset | ItemRows] = []
    pending: list[Item] = []  # items in a row, prepared together
    count = 0
    try:
        for record in records:
            if isinstance(record, Item):
                pending.append(record)
                count += 1
            else:
                if pending:
                    batch.append(prepare_items(pending))
                    pending = []
                batch.append(record)  # type: ignore[arg-type]
                count += len(record) if type(record) is ItemRows else 1
            if count >= size:
                if pending:
                    batch.append(prepare_items(pending))
                    pending = []
                yield batch
                batch, count = [], 0
    except Exception:
        if pending:
            batch.append(prepare_items(pending))
        if any(type(r) is ItemRows for r in batch):
            yield batch
        raise
    if pending:
        batch.append(prepare_items(pending))
    if batch:
        yield batch
