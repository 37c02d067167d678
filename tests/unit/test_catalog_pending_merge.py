"""Batches' manifest changes merged for one write (bridge.catalog.state.merge_pending)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bridge.catalog.state import Pending, merge_pending

names = st.sampled_from(["items", "prices", "stock"])
refs = st.sampled_from(["a", "b", "c", "d"])
batches = st.lists(
    st.tuples(
        st.dictionaries(names, st.dictionaries(refs, st.text(max_size=3), max_size=3), max_size=3),
        st.dictionaries(names, st.sets(refs, max_size=2), max_size=3),
    ),
    max_size=6,
)


def applied(state: dict[str, dict[str, str]], pending: Pending) -> dict[str, dict[str, str]]:
    """What a manifest holds after one batch's write (a batch never both sets and removes an entry)."""
    entries, removed = pending
    result = {name: dict(values) for name, values in state.items()}
    for name, changed in entries.items():
        result.setdefault(name, {}).update(changed)
    for name, gone in removed.items():
        for ref in gone:
            result.get(name, {}).pop(ref, None)
    return result


def one_batch(entries: dict[str, dict[str, str]], removed: dict[str, set[str]]) -> Pending:
    removed = {name: gone - entries.get(name, {}).keys() for name, gone in removed.items()}
    return entries, removed


@given(batches)
def test_one_merged_write_leaves_the_manifests_as_the_batches_one_by_one(
    raw: list[tuple[dict[str, dict[str, str]], dict[str, set[str]]]],
) -> None:
    recorded = [one_batch(entries, removed) for entries, removed in raw]
    start = {"items": {"a": "old", "d": "old"}, "stock": {"b": "old"}}

    one_by_one = start
    for pending in recorded:
        one_by_one = applied(one_by_one, pending)

    entries, removed = merge_pending(recorded)
    assert all(not (entries.get(name, {}).keys() & gone) for name, gone in removed.items())
    assert applied(start, (entries, removed)) == one_by_one


def test_a_removal_after_a_write_of_the_same_entry_wins() -> None:
    merged = merge_pending([({"stock": {"a": "5"}}, {}), ({}, {"stock": {"a"}})])

    assert merged == ({"stock": {}}, {"stock": {"a"}})
