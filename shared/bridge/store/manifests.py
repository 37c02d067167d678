"""Change-detection manifests: one item per object (pk `MANIFEST#<name>`, sk `<ref>`, `value`).

A poller keeps `ref → version` of what it last saw, so the next run fetches only what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from bridge.store.items import key, manifest_pk
from bridge.store.table import Table, text

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef


SEP = "|"


def pack(*parts: object) -> str:
    """One manifest value from its parts, joined by `SEP`; only a middle part may contain it."""
    return SEP.join(str(part) for part in parts)


def unpack(text: str, count: int) -> tuple[str, ...]:
    """`pack`'s `count` parts again: the first and the last split off, any `SEP` kept in the middle."""
    first, *rest = text.split(SEP, 1)
    if count == 1 or not rest:
        return (first, *rest)
    *middle, last = rest[0].rsplit(SEP, 1) if count > 2 else rest
    return (first, *middle, last)


class ManifestStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, name: str) -> dict[str, str]:
        """Every `ref → version` of the named manifest (read by Query)."""
        return {
            attributes["sk"]["S"]: attributes["value"]["S"]
            for attributes in self._table.query(manifest_pk(name))
        }

    def put_entries(self, name: str, entries: Mapping[str, str], removed: Iterable[str]) -> None:
        """Upsert `entries` and delete `removed`, 25 items per BatchWriteItem."""
        gone = list(dict.fromkeys(removed))
        overlap = set(gone) & entries.keys()
        if overlap:
            raise ValueError(f"refs both updated and removed: {sorted(overlap)[:5]}")
        pk = manifest_pk(name)
        requests: list[WriteRequestTypeDef] = [
            {"PutRequest": {"Item": {**key(pk, ref), "value": text(value)}}} for ref, value in entries.items()
        ]
        requests += [{"DeleteRequest": {"Key": key(pk, ref)}} for ref in gone]
        self._table.batch_write(requests)
