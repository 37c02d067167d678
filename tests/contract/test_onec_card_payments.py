"""The 1C emulator publishes the payment-card document as fidelity notes §5 describes it.

`Document_ОперацияПоПлатежнымКартам` (a customer's card payment): `ВидОперации` of enum
`ВидыОперацийЭквайринга`; `РасшифровкаПлатежа` with the bank receipt's columns plus
`СуммаКомиссии`, but a single-typed order `Заказ_Key` (no `Заказ` + `Заказ_Type`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.onec import create_app
from sandbox.serve import serve_in_thread
from sandbox.world.onec import url
from tests.harness.onec import BASE, get_json, ref

pytestmark = pytest.mark.contract

CARD = "Document_ОперацияПоПлатежнымКартам"
ORDER = ref("Document_ЗаказПокупателя", "Заказ Альфа-Строй")
BUYER = ref("Catalog_Контрагенты", "Альфа-Строй ООО")


@pytest.fixture(scope="module")
def onec() -> Iterator[httpx.Client]:
    server = serve_in_thread(create_app())
    try:
        with httpx.Client(base_url=server.url + BASE, auth=("odata", "odata"), timeout=10) as http:
            http.post(http.base_url.copy_with(path="/_sandbox/reset")).raise_for_status()
            yield http
    finally:
        server.stop()


def card_payment(amount: float, *, advance: bool = True, **row: Any) -> dict[str, Any]:
    return {
        "Date": "2026-12-01T10:00:00",
        "ВидОперации": "ПоступлениеОплатыОтПокупателя",
        "Контрагент_Key": BUYER,
        "СуммаДокумента": amount,
        "РасшифровкаПлатежа": [
            {"LineNumber": 1, "Заказ_Key": ORDER, "СуммаПлатежа": amount, "ПризнакАванса": advance, **row}
        ],
    }


def test_metadata_publishes_the_card_document_with_a_single_typed_order(onec: httpx.Client) -> None:
    metadata = onec.get("$metadata").text
    assert f'EntitySet Name="{CARD}"' in metadata
    row_type = re.search(
        rf'<ComplexType Name="{CARD}_РасшифровкаПлатежа_RowType">(.*?)</ComplexType>', metadata, re.S
    )
    assert row_type is not None
    columns = dict(re.findall(r'<Property Name="([^"]+)" Type="([^"]+)"', row_type.group(1)))
    assert columns["Заказ_Key"] == "Edm.Guid"
    assert "Заказ" not in columns
    assert "Заказ_Type" not in columns
    assert columns["ПризнакАванса"] == "Edm.Boolean"
    assert columns["СуммаКомиссии"] == "Edm.Double"
    assert columns["СчетНаОплату_Key"] == "Edm.Guid"


def test_a_posted_card_payment_is_found_by_its_order(onec: httpx.Client) -> None:
    created = onec.post(url(CARD, **{"$format": "json"}), json=card_payment(700, СуммаКомиссии=14.0))
    assert created.status_code == 201, created.text
    payment = created.json()
    assert payment["ВидОперации"] == "ПоступлениеОплатыОтПокупателя"
    assert payment["Posted"] is False
    posted = onec.post(url(f"{CARD}(guid'{payment['Ref_Key']}')/Post", **{"$format": "json"}))
    assert posted.status_code in (200, 204), posted.text

    flt = f"Posted eq true and РасшифровкаПлатежа/any(d: d/Заказ_Key eq guid'{ORDER}')"
    [found] = get_json(onec, CARD, **{"$filter": flt})["value"]
    assert found["Ref_Key"] == payment["Ref_Key"]
    [row] = found["РасшифровкаПлатежа"]
    assert (row["Заказ_Key"], row["СуммаПлатежа"], row["ПризнакАванса"]) == (ORDER, 700, True)
    assert row["СуммаКомиссии"] == 14


def test_the_composite_order_form_of_bank_receipts_does_not_carry_the_order_here(
    onec: httpx.Client,
) -> None:
    body = card_payment(100)
    row = body["РасшифровкаПлатежа"][0]
    del row["Заказ_Key"]
    row |= {"Заказ": ORDER, "Заказ_Type": "StandardODATA.Document_ЗаказПокупателя"}
    created = onec.post(url(CARD, **{"$format": "json"}), json=body)
    assert created.status_code == 201, created.text
    [stored] = created.json()["РасшифровкаПлатежа"]
    assert stored["Заказ_Key"] == "00000000-0000-0000-0000-000000000000"
    assert "Заказ" not in stored
    assert "Заказ_Type" not in stored
