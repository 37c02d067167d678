"""Pure decisions of the catalog flow: diffs, tree order, write plans, prices, stock, documents."""

from __future__ import annotations

from decimal import Decimal

from bridge.catalog.model import Folder, Headline, Item, Stored, StoredPrice
from bridge.catalog.plan import (
    StockWrite,
    decide,
    document_groups,
    folder_levels,
    manifest_diff,
    price_writes,
    stock_writes,
    synced_items,
)

A, B, C, D = (f"00000000-0000-0000-0000-00000000000{n}" for n in range(1, 5))


def item(ref: str, dv: str = "v1", name: str = "x") -> Item:
    return Item(ref, name, name, "ART", None, dv, False, "Запас")


def test_manifest_diff_separates_new_changed_and_gone() -> None:
    stored = {A: Stored(1, "v1", "f"), B: Stored(2, "v1", "f"), C: Stored(3, "v1", "f")}

    diff = manifest_diff({A: "v1", B: "v2", D: "v1"}, stored)

    assert (diff.new, diff.changed, diff.gone) == ((D,), (B,), (C,))


def test_services_are_left_out_only_when_the_setting_says_so() -> None:
    heads = [
        Headline(A, "v", False, False, "Запас"),
        Headline(B, "v", False, False, "Услуга"),
        Headline(C, "v", False, True, ""),
    ]

    assert set(synced_items(heads, include_services=True, service_kinds=("Услуга",))) == {A, B}
    assert set(synced_items(heads, include_services=False, service_kinds=("Услуга",))) == {A}


def test_folder_levels_put_parents_before_children_whatever_the_input_order() -> None:
    folders = [
        Folder(C, "leaf", B, "v", False),
        Folder(B, "middle", A, "v", False),
        Folder(A, "root", None, "v", False),
        Folder(D, "orphan", "00000000-0000-0000-0000-0000000000ff", "v", False),
    ]

    levels = [[f.ref for f in level] for level in folder_levels(folders)]

    assert set(levels[0]) == {A, D}
    assert levels[1:] == [[B], [C]]


def test_folder_levels_survive_a_cycle_in_broken_data() -> None:
    levels = folder_levels([Folder(A, "a", B, "v", False), Folder(B, "b", A, "v", False)])

    assert sorted(f.ref for level in levels for f in level) == [A, B]


def test_decide_creates_updates_adopts_touches_and_deletes() -> None:
    stored = {A: Stored(10, "v1", "same"), B: Stored(20, "v1", "old"), C: Stored(30, "v1", "f")}
    objects = [item(A, "v2"), item(B, "v2"), item(D)]

    plan = decide(objects, stored, gone=[C], fingerprint_of={A: "same", B: "new", D: "x"}, found={})
    assert [o.ref for o in plan.create] == [D]
    assert [(o.ref, i) for o, i in plan.update] == [(B, 20)]
    assert [(o.ref, i) for o, i in plan.touch] == [(A, 10)]
    assert plan.delete == [(C, 30)]

    adopted = decide([item(D)], {}, gone=[], fingerprint_of={D: "x"}, found={D: 99})
    assert adopted.create == []
    assert [(o.ref, i) for o, i in adopted.update] == [(D, 99)]


def test_price_writes_only_for_changed_prices_of_existing_products() -> None:
    stored = {A: StoredPrice(5, Decimal("10")), B: StoredPrice(6, Decimal("20"))}
    targets = {A: Decimal("10.0"), B: Decimal("21"), C: Decimal("3")}

    writes = price_writes(targets, stored, products={A: 1, B: 2, C: 3, D: 4})

    assert [(w.ref, w.price, w.price_id) for w in writes] == [(B, Decimal("21"), 6), (C, Decimal("3"), None)]


def test_stock_writes_treat_missing_balances_as_zero_and_skip_equal_ones() -> None:
    stored = {A: Decimal(5), B: Decimal(7)}

    writes = stock_writes({A: Decimal(5)}, stored, products={A: 1, B: 2, C: 3})

    assert [(w.ref, w.quantity, w.previous) for w in writes] == [
        (B, Decimal(0), Decimal(7)),
        (C, Decimal(0), None),
    ]


def test_documents_split_increases_and_decreases_and_respect_the_row_limit() -> None:
    writes = [StockWrite(str(i), i, Decimal(i % 3), Decimal(1)) for i in range(7)]

    groups = document_groups(writes, size=2)

    kinds = [(kind, [(w.product_id, amount) for w, amount in rows]) for kind, rows in groups]
    assert kinds == [
        ("S", [(2, Decimal(1)), (5, Decimal(1))]),
        ("D", [(0, Decimal(1)), (3, Decimal(1))]),
        ("D", [(6, Decimal(1))]),
    ]
