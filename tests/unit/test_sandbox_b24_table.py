"""The Bitrix24 emulator's table index (`Table.having`) answers what a scan of its rows answers."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sandbox.b24.state import Table


def owner(row: dict[str, Any]) -> Any:
    return row["owner"]


writes = st.lists(
    st.tuples(st.sampled_from(["put", "delete", "ask"]), st.integers(0, 5), st.integers(0, 3)), max_size=40
)


@given(writes, st.integers(0, 6))
def test_having_answers_what_a_scan_answers_after_any_writes(
    steps: list[tuple[str, int, int]], first_ask: int
) -> None:
    table = Table()
    for number, (kind, key, value) in enumerate(steps):
        if number == first_ask:  # the index is built from whatever rows exist at its first use
            table.having(owner, value)
        if kind == "put":
            table.put(key, {"id": key, "owner": value})
        elif kind == "delete":
            table.delete(key)
        scanned = [row for _, row in sorted(table.rows.items()) if row["owner"] == value]
        assert table.having(owner, value) == scanned
