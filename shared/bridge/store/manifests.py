"""Change-detection manifests: a poller keeps `ref → version` of what it last saw, so the next run
fetches only what changed.

Layout: a manifest (pk `MANIFEST#<name>`) is a log of immutable segments. Each write adds segment
items (sk `#segment#<stamp>#<token>`, one string attribute `segment`: JSON `{ref: [value, stamp]}`,
a `null` value meaning removed); a read merges every segment, the newest stamp per ref winning.
Nothing is ever overwritten, so concurrent writers cannot lose each other's entries, and a write
of many entries is a few items instead of one per entry (a first catalog load of 1,000 products
wrote its 3,000 entries as 3,000 items in 127 BatchWriteItem requests; docs/performance.md, P1).
Entries of the first layout (sk `<ref>`, attribute `value`) read as the oldest stamp.

A read that finds more than `COMPACT_AFTER` items compacts: it writes the entries of its small
items (or of all, once most entries read are stale) as new segments, each entry keeping its stamp,
then deletes those items. Segments are immutable, so
a concurrent write is never deleted unread, and an item a slow Query still finds after the
deletes (or a crash left) holds nothing newer than the compaction. Only a removal can be undone by
such a leftover, so a compaction drops a removal only when it is older than `REMOVAL_KEPT_S` and
no other item it read names that ref: then no leftover can hold an older value for it.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bridge.errors import PermanentError, TransientError
from bridge.observability import logger
from bridge.store.items import key, manifest_pk
from bridge.store.table import Table, text

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef


SEP = "|"

SEGMENT_PREFIX = "#segment#"
# Items a read may find before it compacts (of which more than half this many small ones).
COMPACT_AFTER = 16
# A segment's JSON is kept near this many bytes (DynamoDB's item limit is 400 KB).
SEGMENT_BYTES = 300_000
ITEM_BYTES = 380_000  # what a segment's JSON may reach, under the 400 KB item limit with its key
REMOVAL_KEPT_S = 3600.0

type Change = tuple[Mapping[str, str], Iterable[str]]  # (ref → new value, refs removed)
type Stamped = dict[str, tuple[str | None, int]]  # ref → (value or None when removed, stamp)


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


class _Stamps:
    """Microseconds of the table's clock, strictly increasing within the process: two writes of one
    ref from one process are ordered even when the clock stands still (tests) or steps back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self, now: float) -> int:
        with self._lock:
            self._last = max(int(now * 1_000_000), self._last + 1)
            return self._last


_STAMPS = _Stamps()


@dataclass(frozen=True, slots=True)
class _Item:
    """One item read: a segment, or an entry of the first layout."""

    sk: str
    entries: Stamped
    size: int  # bytes of its segment (about as many for a first-layout entry)


class ManifestStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, name: str) -> dict[str, str]:
        """Every `ref → version` of the named manifest (read by Query; compacts a long log)."""
        pk = manifest_pk(name)
        items = [_item(row) for row in self._table.query(pk)]
        merged = _merged(items)
        if len(items) > COMPACT_AFTER:
            try:
                self._compact(pk, items, merged)
            except TransientError as error:  # housekeeping: the read stands, the next one retries
                logger.warning("manifest not compacted", extra={"manifest": name, "reason": str(error)})
            except PermanentError as error:
                logger.error("manifest cannot be compacted", extra={"manifest": name, "reason": str(error)})
        return {ref: value for ref, (value, _) in merged.items() if value is not None}

    def written(self, name: str) -> bool:
        """Whether anything was ever recorded in the named manifest and not compacted away (one item
        read, nothing merged or compacted: for a caller that may only read, such as setup)."""
        return self._table.any_item(manifest_pk(name))

    def put_entries(self, name: str, entries: Mapping[str, str], removed: Iterable[str]) -> None:
        """Upsert `entries` and delete `removed` (one manifest)."""
        self.put_changes({name: (entries, removed)})

    def put_changes(self, changes: Mapping[str, Change]) -> None:
        """Several manifests' upserts and removals, as segments sent together (25 per BatchWriteItem)."""
        stamp = _STAMPS.next(self._table.clock())
        requests: list[WriteRequestTypeDef] = []
        for name, (entries, removed) in changes.items():
            gone = list(dict.fromkeys(removed))
            overlap = set(gone) & entries.keys()
            if overlap:
                raise ValueError(f"refs both updated and removed: {sorted(overlap)[:5]}")
            stamped: Stamped = {ref: (value, stamp) for ref, value in entries.items()}
            stamped |= {ref: (None, stamp) for ref in gone}
            requests += _segment_puts(manifest_pk(name), stamped, stamp)
        self._table.batch_write(requests)

    def _compact(self, pk: str, items: list[_Item], merged: Stamped) -> None:
        """Fold the small items into full segments; everything, once most entries read are stale.

        Full segments are left as they are otherwise: rewriting a 50,000-entry catalog manifest
        (3 MB, 3,000 write units) whenever a stock cycle adds its few segments would cost more
        than the per-entry items did."""
        stored = sum(len(item.entries) for item in items)
        if stored > 2 * len(merged):
            chosen = items
        else:
            chosen = [item for item in items if item.size < SEGMENT_BYTES // 2]
            if len(chosen) <= COMPACT_AFTER // 2:
                return
        named = Counter(ref for item in items for ref in item.entries)
        now = self._table.clock()
        oldest_kept = int((now - REMOVAL_KEPT_S) * 1_000_000)
        kept = {
            ref: entry
            for ref, entry in _merged(chosen).items()
            if entry[0] is not None or entry[1] >= oldest_kept or named[ref] > 1
        }
        # The new segments first: a crash before the deletes leaves entries twice, never none.
        self._table.batch_write(_segment_puts(pk, kept, _STAMPS.next(now)))
        self._table.batch_write([{"DeleteRequest": {"Key": key(pk, item.sk)}} for item in chosen])


def _item(row: Mapping[str, Any]) -> _Item:
    sk = row["sk"]["S"]
    if "segment" in row:
        body: str = row["segment"]["S"]
        entries: dict[str, list[Any]] = json.loads(body)
        return _Item(sk, {ref: (value, int(stamp)) for ref, (value, stamp) in entries.items()}, len(body))
    # The first layout: one item per entry, older than any segment.
    value: str = row["value"]["S"]
    return _Item(sk, {sk: (value, 0)}, len(sk) + len(value))


def _merged(items: Iterable[_Item]) -> Stamped:
    merged: Stamped = {}
    for item in items:
        for ref, entry in item.entries.items():
            held = merged.get(ref)
            if held is None or entry[1] >= held[1]:
                merged[ref] = entry
    return merged


def _segment_puts(pk: str, stamped: Stamped, stamp: int) -> list[WriteRequestTypeDef]:
    return [
        {"PutRequest": {"Item": {**key(pk, _segment_sk(stamp)), "segment": text(body)}}}
        for body in _segment_bodies(stamped)
    ]


def _segment_sk(stamp: int) -> str:
    # The token keeps two segments of one stamp (one write's several pieces) apart.
    return f"{SEGMENT_PREFIX}{stamp:020d}#{secrets.token_hex(4)}"


def _segment_bodies(stamped: Stamped) -> Iterator[str]:
    """`stamped` as JSON objects of about `SEGMENT_BYTES` UTF-8 bytes each (none when empty)."""
    chunk: dict[str, list[Any]] = {}
    size = 0
    for ref, (value, stamp) in stamped.items():
        written = ref + (value or "")
        # Quotes, brackets, the stamp; escapes only where a ref or value needs them (checked below).
        part = (len(written) if written.isascii() else len(written.encode())) + 40
        if chunk and size + part > SEGMENT_BYTES:
            yield from _fitting(chunk)
            chunk, size = {}, 0
        chunk[ref] = [value, stamp]
        size += part
    if chunk:
        yield from _fitting(chunk)


def _fitting(chunk: dict[str, list[Any]]) -> Iterator[str]:
    """The chunk as JSON, halved until each half fits one item (escapes can outgrow the estimate)."""
    body = json.dumps(chunk, ensure_ascii=False, separators=(",", ":"))
    if len(body.encode()) <= ITEM_BYTES:
        yield body
        return
    if len(chunk) == 1:
        raise ValueError(f"a manifest entry of {len(body.encode())} bytes exceeds DynamoDB's item limit")
    refs = list(chunk)
    middle = len(refs) // 2
    yield from _fitting({ref: chunk[ref] for ref in refs[:middle]})
    yield from _fitting({ref: chunk[ref] for ref in refs[middle:]})
