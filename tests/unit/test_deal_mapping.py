"""Deal → Document_ЗаказПокупателя bodies: exact shape, updates that never blank, closing bodies."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.config.deal import DealMapping
from bridge.deals.config import DealFlowOptions, OneCRefs, OrderConfig
from bridge.deals.decisions import OrderOutcome
from bridge.deals.mapping import (
    OrderDraft,
    ProductRefs,
    Unmatched,
    amount_mismatch,
    build_order,
    close_order_patch,
    is_empty,
    mapped_fingerprint_input,
    order_lookup_filter,
    order_patch,
    shipment_body,
)
from bridge.deals.snapshot import DealSnapshot, parse_deal_snapshot
from bridge.domain.counterparty import EMPTY_GUID
from bridge.domain.text import strip_markup
from bridge.errors import PermanentError
from tests.harness.fixture_files import load

ORG = "0c1f5a6e-2d3b-11ef-9c3a-00155d0a1b01"
NEW_STATE = "1a2b3c4d-0000-11ef-9c3a-00155d0a1b01"
DONE_STATE = "1a2b3c4d-0001-11ef-9c3a-00155d0a1b01"
CANCELLED_STATE = "1a2b3c4d-0002-11ef-9c3a-00155d0a1b01"
DEAL_ID_PROPERTY = "9e8d7c6b-5a49-11ef-9c3a-00155d0a1b01"
COUNTERPARTY = "55aa55aa-1234-11ef-9c3a-00155d0a1b01"
MANAGER = "77bb77bb-1234-11ef-9c3a-00155d0a1b01"
PCS = "ee000796-0000-11ef-9c3a-00155d0a1b01"
VAT20 = "da000020-0000-11ef-9c3a-00155d0a1b01"
NO_VAT = "da000000-0000-11ef-9c3a-00155d0a1b01"
ORDER_REF = "f0f0f0f0-aaaa-11ef-9c3a-00155d0a1b01"

CONFIG = OrderConfig(
    refs=OneCRefs(
        organization=ORG,
        initial_state=NEW_STATE,
        completed_state=DONE_STATE,
        cancelled_state=CANCELLED_STATE,
        deal_id_property=DEAL_ID_PROPERTY,
    )
)
PRODUCTS: dict[int, ProductRefs | tuple[Any, ...]] = {
    501: ProductRefs("a0000501-0000-11ef-9c3a-00155d0a1b01", PCS, VAT20),
    502: ("a0000502-0000-11ef-9c3a-00155d0a1b01", PCS, VAT20),  # a plain tuple works too
    640: ProductRefs("a0000640-0000-11ef-9c3a-00155d0a1b01", PCS, NO_VAT),
}


def ru_snapshot(**deal: Any) -> DealSnapshot:
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    results["deal"].update(deal)
    return parse_deal_snapshot(results, [])


AMOUNT_ITEM = ProductRefs("a0000999-0000-11ef-9c3a-00155d0a1b01", PCS, VAT20, vat_percent=Decimal(20))


def draft(snapshot: DealSnapshot | None = None, config: OrderConfig = CONFIG) -> OrderDraft:
    result = build_order(
        snapshot or ru_snapshot(), COUNTERPARTY, MANAGER, PRODUCTS, config, amount_item=AMOUNT_ITEM
    )
    assert isinstance(result, OrderDraft)
    return result


def test_russian_deal_becomes_the_exact_order_body() -> None:
    unit = "StandardODATA.Catalog_КлассификаторЕдиницИзмерения"
    assert draft().body == {
        "Date": "2025-03-03T00:00:00",
        "ВидОперации": "ЗаказНаПродажу",
        "Организация_Key": ORG,
        "Контрагент_Key": COUNTERPARTY,
        "Ответственный_Key": MANAGER,
        "СостояниеЗаказа": NEW_STATE,
        "СостояниеЗаказа_Type": "StandardODATA.Catalog_СостоянияЗаказовПокупателей",
        "Комментарий": "Срочно! Доставка до 12:00, звонить заранее.\nВъезд со двора & через шлагбаум.",
        "СуммаВключаетНДС": True,
        "Запасы": [
            {
                "LineNumber": 1,
                "Номенклатура_Key": "a0000501-0000-11ef-9c3a-00155d0a1b01",
                "Количество": 120,
                "ЕдиницаИзмерения": PCS,
                "ЕдиницаИзмерения_Type": unit,
                "Цена": 420,
                "Сумма": 50400,
                "СтавкаНДС_Key": VAT20,
                "СуммаНДС": 8400,
                "Всего": 50400,
            },
            {
                "LineNumber": 2,
                "Номенклатура_Key": "a0000502-0000-11ef-9c3a-00155d0a1b01",
                "Количество": 20,
                "ЕдиницаИзмерения": PCS,
                "ЕдиницаИзмерения_Type": unit,
                "Цена": 199.5,
                "Сумма": 3990,
                "СтавкаНДС_Key": VAT20,
                "СуммаНДС": 665,
                "Всего": 3990,
            },
            {
                "LineNumber": 3,
                "Номенклатура_Key": "a0000640-0000-11ef-9c3a-00155d0a1b01",
                "Количество": 1,
                "ЕдиницаИзмерения": PCS,
                "ЕдиницаИзмерения_Type": unit,
                "Цена": 2210,
                "Сумма": 2210,
                "СтавкаНДС_Key": NO_VAT,
                "Всего": 2210,
            },
        ],
        "ДополнительныеРеквизиты": [
            {
                "LineNumber": 1,
                "Свойство_Key": DEAL_ID_PROPERTY,
                "Значение": "1024",
                "Значение_Type": "Edm.String",
            }
        ],
    }


def test_mapped_set_leaves_out_what_1c_owns_after_creation() -> None:
    mapped = mapped_fingerprint_input(draft())
    assert "СостояниеЗаказа" not in mapped
    assert "ДополнительныеРеквизиты" not in mapped
    assert mapped["Контрагент_Key"] == COUNTERPARTY
    assert json.loads(json.dumps(mapped, ensure_ascii=False)) == mapped  # plain JSON types only


def test_date_is_the_portal_local_date_not_utc() -> None:
    # 00:00 at +03:00 is the previous day in UTC; the deal's own date wins.
    assert draft().body["Date"] == "2025-03-03T00:00:00"


def test_date_falls_back_to_creation_date() -> None:
    body = draft(ru_snapshot(BEGINDATE=None)).body
    assert body["Date"] == "2025-03-02T00:00:00"


def test_deal_without_any_date_is_refused() -> None:
    with pytest.raises(PermanentError, match="BEGINDATE"):
        draft(ru_snapshot(BEGINDATE="", DATE_CREATE=None))


def test_fallback_mode_keeps_the_deal_id_in_the_incoming_number() -> None:
    config = OrderConfig(
        refs=CONFIG.refs, options=DealFlowOptions.from_mapping(DealMapping(deal_id_storage="incoming_number"))
    )
    body = draft(config=config).body
    assert body["НомерВходящегоДокумента"] == "B24-1024"
    assert "ДополнительныеРеквизиты" not in body
    assert order_lookup_filter(1024, config) == "НомерВходящегоДокумента eq 'B24-1024'"


def test_lookup_filter_by_additional_attribute() -> None:
    assert order_lookup_filter(1024, CONFIG) == (
        f"ДополнительныеРеквизиты/any(d: d/Свойство_Key eq guid'{DEAL_ID_PROPERTY}' and d/Значение eq '1024')"
    )


def test_attribute_mode_without_the_property_is_a_setting_error() -> None:
    refs = CONFIG.refs.model_copy(update={"deal_id_property": None})
    with pytest.raises(ValueError, match="deal_id_property"):
        OrderConfig(refs=refs)


def test_bad_reference_in_settings_is_refused() -> None:
    with pytest.raises(ValueError, match="organization"):
        OneCRefs(
            organization=EMPTY_GUID,
            initial_state=NEW_STATE,
            completed_state=DONE_STATE,
            cancelled_state=NEW_STATE,
        )


def test_unmatched_products_block_the_order_and_are_named() -> None:
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    results["rows"].append(
        {
            "ID": "904",
            "PRODUCT_ID": 0,
            "PRODUCT_NAME": "Поддон деревянный",
            "PRICE": 250,
            "QUANTITY": 4,
            "SORT": 40,
        }
    )
    snap = parse_deal_snapshot(results, [])
    refs = {k: v for k, v in PRODUCTS.items() if k != 502}
    result = build_order(snap, COUNTERPARTY, MANAGER, refs, CONFIG)
    assert result == Unmatched(products=("Бордюр садовый 1000×200×80", "Поддон деревянный"))


def test_deal_without_rows_carries_its_amount_as_one_service_row() -> None:
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    results["rows"] = []
    (row,) = draft(parse_deal_snapshot(results, [])).body["Запасы"]
    assert row["Номенклатура_Key"] == AMOUNT_ITEM.nomenclature
    assert (row["Количество"], row["Цена"], row["Сумма"], row["Всего"]) == (1, 54600, 54600, 54600)
    assert (row["СтавкаНДС_Key"], row["СуммаНДС"]) == (VAT20, 9100)


def test_deal_without_rows_and_without_amount_gives_no_rows() -> None:
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    results["rows"] = []
    results["deal"]["OPPORTUNITY"] = "0.00"
    assert draft(parse_deal_snapshot(results, [])).body["Запасы"] == []


def test_vat_amount_follows_the_rate_written_on_the_row() -> None:
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    for row in results["rows"]:
        row["TAX_RATE"] = None  # the portal shows no tax: the nomenclature's 20 % still carries VAT
    products = {**PRODUCTS, 501: ProductRefs(PRODUCTS[501][0], PCS, VAT20, vat_percent=Decimal(20))}
    result = build_order(parse_deal_snapshot(results, []), COUNTERPARTY, MANAGER, products, CONFIG)
    assert isinstance(result, OrderDraft)
    first = result.body["Запасы"][0]
    assert (first["СтавкаНДС_Key"], first["СуммаНДС"]) == (VAT20, 8400)


def test_rows_total_different_from_the_deal_amount_is_noticed() -> None:
    assert amount_mismatch(ru_snapshot(OPPORTUNITY="56600.00")) is None
    assert amount_mismatch(ru_snapshot()) == (Decimal(54600), Decimal(56600))


def test_unknown_responsible_is_left_to_1c() -> None:
    result = build_order(ru_snapshot(), COUNTERPARTY, None, PRODUCTS, CONFIG)
    assert isinstance(result, OrderDraft)
    assert "Ответственный_Key" not in result.body


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("[B]Жирный[/B] и [I]курсив[/I]", "Жирный и курсив"),
        ("[LIST]\n[*]Раз\n[*]Два\n[/LIST]", "- Раз\n- Два"),
        ("[URL=https://example.ru]сайт[/URL]", "сайт"),
        ("<p>Абзац</p><p>Второй&nbsp;абзац</p>", "Абзац\nВторой абзац"),
        ("", ""),
        ("Цена [5] шт", "Цена [5] шт"),
    ],
)
def test_comment_markup_is_stripped(source: str, text: str) -> None:
    assert strip_markup(source) == text


def test_unchanged_deal_patches_nothing_against_the_order_as_1c_returns_it() -> None:
    mapped = draft().mapped
    # 1C answers LineNumber as text, adds Ref_Key and columns we never write.
    as_read = copy.deepcopy(draft().body) | {
        "Ref_Key": ORDER_REF,
        "Number": "00000000042",
        "СуммаДокумента": 56600,
    }
    for line in as_read["Запасы"]:
        line.update({"LineNumber": str(line["LineNumber"]), "Ref_Key": ORDER_REF, "Резерв": 0})
    assert order_patch(as_read, mapped) == {}


def test_changed_comment_and_rows_are_patched() -> None:
    before = draft().mapped
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    results["deal"]["COMMENTS"] = "Доставка перенесена на пятницу"
    results["rows"][0]["QUANTITY"] = 150
    after = draft(parse_deal_snapshot(results, [])).mapped
    patch = order_patch(before, after)
    assert set(patch) == {"Комментарий", "Запасы"}
    assert patch["Комментарий"] == "Доставка перенесена на пятницу"
    assert [row["LineNumber"] for row in patch["Запасы"]] == [1, 2, 3]  # the section goes whole
    assert patch["Запасы"][0]["Количество"] == 150


def test_emptied_comment_and_rows_do_not_blank_the_order() -> None:
    before = draft().mapped
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    results["deal"]["COMMENTS"] = ""
    results["deal"]["OPPORTUNITY"] = ""
    results["rows"] = []
    after = draft(parse_deal_snapshot(results, [])).mapped
    assert order_patch(before, after) == {}


def test_won_and_lost_bodies() -> None:
    state_type = "StandardODATA.Catalog_СостоянияЗаказовПокупателей"
    assert close_order_patch(OrderOutcome.COMPLETED, CONFIG) == {
        "СостояниеЗаказа": DONE_STATE,
        "СостояниеЗаказа_Type": state_type,
        "ВариантЗавершения": "Успешно",
    }
    assert close_order_patch(OrderOutcome.CANCELLED, CONFIG) == {
        "СостояниеЗаказа": CANCELLED_STATE,
        "СостояниеЗаказа_Type": state_type,
        "ВариантЗавершения": "Отменен",
    }


def _order_as_read() -> dict[str, Any]:
    body = copy.deepcopy(draft().body)
    body.update(
        {
            "Ref_Key": ORDER_REF,
            "Number": "00000000042",
            "Договор_Key": EMPTY_GUID,
            "СтруктурнаяЕдиницаРезерв_Key": "5c5c5c5c-0000-11ef-9c3a-00155d0a1b01",
            "ВалютаДокумента_Key": "rub00000-0000-11ef-9c3a-00155d0a1b01",
        }
    )
    for number, line in enumerate(body["Запасы"], 1):
        line.update({"LineNumber": str(number), "Ref_Key": ORDER_REF, "Характеристика_Key": EMPTY_GUID})
    return body


def test_shipment_is_built_from_the_order() -> None:
    shipment = shipment_body(_order_as_read(), date(2025, 3, 20), CONFIG)
    assert shipment["Date"] == "2025-03-20T00:00:00"
    assert shipment["ВидОперации"] == "ПродажаПокупателю"
    assert (shipment["Заказ"], shipment["Заказ_Type"]) == (
        ORDER_REF,
        "StandardODATA.Document_ЗаказПокупателя",
    )
    assert shipment["Контрагент_Key"] == COUNTERPARTY
    assert shipment["Организация_Key"] == ORG
    assert shipment["СтруктурнаяЕдиница_Key"] == "5c5c5c5c-0000-11ef-9c3a-00155d0a1b01"
    assert "Договор_Key" not in shipment  # empty reference is not copied
    rows = shipment["Запасы"]
    assert [r["LineNumber"] for r in rows] == [1, 2, 3]
    assert rows[0]["Номенклатура_Key"] == "a0000501-0000-11ef-9c3a-00155d0a1b01"
    assert rows[0]["Количество"] == 120
    assert rows[0]["Всего"] == 50400
    assert all(r["Заказ"] == ORDER_REF and "Ref_Key" not in r and "Характеристика_Key" not in r for r in rows)


def test_shipment_needs_the_order_ref() -> None:
    with pytest.raises(PermanentError):
        shipment_body({"Запасы": []}, date(2025, 3, 20), CONFIG)


# --- properties ------------------------------------------------------------------------------

_money = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)
_quantity = st.decimals(
    min_value=Decimal("0.001"), max_value=10_000, places=3, allow_nan=False, allow_infinity=False
)
_row = st.fixed_dictionaries(
    {
        "ID": st.integers(1, 10**6).map(str),
        "PRODUCT_ID": st.sampled_from([501, 502, 640]),
        "PRODUCT_NAME": st.text(min_size=1, max_size=20),
        "PRICE": st.one_of(_money.map(float), _money.map(str)),
        "QUANTITY": st.one_of(_quantity.map(str), _quantity.map(float)),
        "TAX_RATE": st.sampled_from([None, 0, 10, 20, "20.00"]),
        "TAX_INCLUDED": st.sampled_from(["Y", "N"]),
        "SORT": st.integers(0, 100),
    }
)
_deal_patch = st.fixed_dictionaries(
    {
        "COMMENTS": st.text(max_size=60),
        "BEGINDATE": st.sampled_from(["2025-03-03T00:00:00+03:00", "2024-12-31T23:00:00-05:00", "", None]),
    }
)


def _wire_snapshot(rows: list[dict[str, Any]], deal: dict[str, Any]) -> dict[str, Any]:
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    results["rows"] = rows
    results["deal"].update(deal)
    return results


@given(rows=st.lists(_row, max_size=8), deal=_deal_patch)
def test_mapping_is_deterministic_and_idempotent(rows: list[dict[str, Any]], deal: dict[str, Any]) -> None:
    wire = _wire_snapshot(rows, deal)
    first = draft(parse_deal_snapshot(copy.deepcopy(wire), []))
    second = draft(parse_deal_snapshot(json.loads(json.dumps(wire)), []))
    assert first.body == second.body
    assert mapped_fingerprint_input(first) == mapped_fingerprint_input(second)
    assert order_patch(first.mapped, second.mapped) == {}
    # and against the order as 1C echoes it back (JSON, LineNumber as text)
    echoed = json.loads(json.dumps(first.body))
    for line in echoed["Запасы"]:
        line["LineNumber"] = str(line["LineNumber"])
    assert order_patch(echoed, second.mapped) == {}


@given(rows=st.lists(_row, max_size=8))
def test_line_numbers_are_always_one_to_n(rows: list[dict[str, Any]]) -> None:
    body = draft(parse_deal_snapshot(_wire_snapshot(rows, {"OPPORTUNITY": "0"}), [])).body
    assert [r["LineNumber"] for r in body["Запасы"]] == list(range(1, len(rows) + 1))
    order = body | {"Ref_Key": ORDER_REF}
    shipment = shipment_body(order, date(2025, 1, 1), CONFIG)
    assert [r["LineNumber"] for r in shipment["Запасы"]] == list(range(1, len(rows) + 1))


_empty: st.SearchStrategy[Any] = st.sampled_from([None, "", "   ", EMPTY_GUID, "0001-01-01T00:00:00", [], {}])
_value = st.one_of(
    st.text(min_size=1, max_size=8).filter(lambda s: s.strip() != ""),
    st.integers(-5, 5),
    st.booleans(),
    st.lists(
        st.fixed_dictionaries({"LineNumber": st.integers(1, 3), "Цена": st.integers(0, 9)}),
        min_size=1,
        max_size=2,
    ),
)
_fields = st.sampled_from(
    ["Date", "Комментарий", "Контрагент_Key", "Ответственный_Key", "Запасы", "СуммаВключаетНДС"]
)


@given(
    previous=st.dictionaries(_fields, st.one_of(_value, _empty)),
    new=st.dictionaries(_fields, st.one_of(_value, _empty)),
)
def test_empty_never_overwrites(previous: dict[str, Any], new: dict[str, Any]) -> None:
    patch = order_patch(previous, new)
    assert all(not is_empty(v) for v in patch.values())
    assert set(patch) <= {k for k, v in new.items() if not is_empty(v)}
    applied = previous | patch
    for key, value in new.items():
        if is_empty(value):
            assert applied.get(key) == previous.get(key)
        else:
            assert order_patch(applied, {key: value}) == {}
