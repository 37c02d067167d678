"""What a deal shows after the flow ran: order number fields and timeline texts in Russian."""

from __future__ import annotations

from decimal import Decimal

from bridge.config.deal import DealMapping
from bridge.deals.buyer import CounterpartyCandidate
from bridge.deals.decisions import OrderAction, OrderActionKind, ShortProduct
from bridge.deals.snapshot import parse_deal_snapshot
from bridge.deals.writeback import (
    ambiguous_counterparty_text,
    deal_writeback,
    deal_writeback_patch,
    materials_copy_fields,
    materials_copy_rows,
    order_created_text,
    out_of_stock_text,
    responsible_warning_text,
    unmatched_products_text,
)
from bridge.domain.users import B24User
from bridge.notices import timeline_comment
from tests.harness.fixture_files import load

REF = "f0f0f0f0-aaaa-11ef-9c3a-00155d0a1b01"


def test_order_number_and_ref_go_to_the_configured_fields() -> None:
    assert deal_writeback("00000000042", REF, DealMapping()) == {
        "UF_CRM_1C_ORDER_NO": "00000000042",
        "UF_CRM_1C_ORDER_REF": REF,
    }
    custom = DealMapping(order_number_field="UF_CRM_1700000000001", order_ref_field="UF_CRM_1700000000002")
    assert set(deal_writeback("1", REF, custom)) == {"UF_CRM_1700000000001", "UF_CRM_1700000000002"}


def test_writeback_skips_values_already_on_the_deal() -> None:
    current = {"UF_CRM_1C_ORDER_NO": "00000000042", "UF_CRM_1C_ORDER_REF": ""}
    assert deal_writeback_patch(current, "00000000042", REF, DealMapping()) == {"UF_CRM_1C_ORDER_REF": REF}
    done = {"UF_CRM_1C_ORDER_NO": "00000000042", "UF_CRM_1C_ORDER_REF": REF}
    assert deal_writeback_patch(done, "00000000042", REF, DealMapping()) == {}


def test_timeline_texts() -> None:
    assert order_created_text("00000000042") == "Заказ покупателя № 00000000042 создан в 1С"
    assert timeline_comment("deal", 1024, "текст") == {
        "fields": {"ENTITY_ID": 1024, "ENTITY_TYPE": "deal", "COMMENT": "текст"}
    }
    text = unmatched_products_text(["Бордюр садовый", "Поддон деревянный"])
    assert "«Бордюр садовый», «Поддон деревянный»" in text
    assert text.startswith("Заказ в 1С не создан")
    anna = B24User.model_validate({"ID": "15", "NAME": "Анна", "LAST_NAME": "Смирнова"})
    assert responsible_warning_text(anna, 15, True) == (
        "Ответственный «Анна Смирнова» не найден среди сотрудников 1С; "
        "в заказе указан сотрудник по умолчанию."
    )
    assert "#15" in responsible_warning_text(None, 15, False)
    candidates = [
        CounterpartyCandidate.model_validate(
            {"Ref_Key": REF, "Description": "Стройресурс", "ИНН": "7701234567", "КПП": "770101001"}
        ),
        CounterpartyCandidate.model_validate({"Ref_Key": REF, "Description": "СР"}),
    ]
    assert "Стройресурс (ИНН 7701234567, КПП 770101001); СР" in ambiguous_counterparty_text(
        "Стройресурс", candidates
    )


def test_out_of_stock_copy() -> None:
    snapshot = parse_deal_snapshot(load("deals/batch.result.ru.json"), [])
    action = OrderAction(
        kind=OrderActionKind.COPY_TO_MATERIALS,
        short_products=(
            ShortProduct(product_id=501, name="Плитка", requested=Decimal("120.000"), free=Decimal(100)),
        ),
        target_category_id=1,
        target_stage_id="C1:NEW",
    )
    assert "«Плитка» (нужно 120, свободно 100)" in out_of_stock_text(action, 2048)
    fields = materials_copy_fields(snapshot, action)
    assert fields["CATEGORY_ID"] == 1
    assert fields["STAGE_ID"] == "C1:NEW"
    assert (fields["COMPANY_ID"], fields["CONTACT_ID"], fields["ASSIGNED_BY_ID"]) == (77, 310, 15)
    rows = materials_copy_rows(snapshot)
    assert [(r["PRODUCT_ID"], r["QUANTITY"]) for r in rows] == [(501, "120"), (502, "20"), (640, "1")]
    assert "TAX_RATE" not in rows[2]
