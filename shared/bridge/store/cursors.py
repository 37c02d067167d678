"""Named, versioned positions of the pollers (pk `CURSOR#<name>`, sk `STATE`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridge.store.errors import CursorConflict
from bridge.store.items import CURSOR_SK, CursorItem, cursor_pk
from bridge.store.models import Cursor
from bridge.store.table import Condition, Table


class CursorStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, name: str) -> Cursor | None:
        attributes = self._table.get(cursor_pk(name), CURSOR_SK)
        return None if attributes is None else CursorItem.from_attributes(attributes).to_cursor()

    def put(self, name: str, value: Mapping[str, Any], *, expected_version: int | None = None) -> Cursor:
        """Store a cursor if nobody moved it since `expected_version` (None: it must not exist yet)."""
        item = CursorItem.new(name, value, (expected_version or 0) + 1, self._table.clock())
        if expected_version is None:
            when = Condition("attribute_not_exists(pk)")
        else:
            when = Condition("version = :expected", {":expected": {"N": str(expected_version)}})
        self._table.put(
            item.to_attributes(),
            when,
            conflict=lambda: CursorConflict(f"cursor {name!r} is no longer at version {expected_version}"),
        )
        return item.to_cursor()
