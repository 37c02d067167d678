"""The 1C emulator against ../shared/reference/fidelity-notes.md (issue 10 item 14): `$count` as
text/plain and the three `Condition` forms of virtual tables (§3)."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from bridge.onec.client import ODataClient
from bridge.onec.odata import eq, guid
from sandbox.world.onec import url
from tests.harness.onec import EMPTY_GUID, get_json, ref

pytestmark = pytest.mark.contract

BOLT = ref("Catalog_Номенклатура", "Болт М10х50")
NUT = ref("Catalog_Номенклатура", "Гайка М10")
SECOND_STORE = ref("Catalog_СтруктурныеЕдиницы", "Склад №2")
SLICE = "InformationRegister_ЦеныНоменклатуры/SliceLast"
BALANCE = "AccumulationRegister_ЗапасыНаСкладах/Balance"
PERIOD = "Period=datetime'2030-01-01T00:00:00'"
Q = "'"


# ------------------------------------------------------------------ $count


def test_count_needs_no_format_and_answers_text_plain(onec: httpx.Client) -> None:
    # reference/onec/README.md: `GET <Set>/$count` answers the number as text/plain.
    response = onec.get(url("Catalog_СтавкиНДС/$count"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "4"


def test_count_honours_filter(onec: httpx.Client) -> None:
    response = onec.get(url("Catalog_СтавкиНДС/$count", **{"$filter": "НеОблагается eq true"}))
    assert (response.status_code, response.text) == (200, "1")


# ------------------------------------------------------------------ Condition (§3)


def _nut_condition(form: str) -> tuple[str, dict[str, str]]:
    """SliceLast restricted to the nut, in one of the forms of fidelity-notes §3."""
    if form == "query":  # the developer guide's form (§17.4.13)
        return f"{SLICE}({PERIOD})", {"Condition": f"Номенклатура_Key eq guid{Q}{NUT}{Q}"}
    if form == "query, no parentheses":
        return SLICE, {"Condition": f"Номенклатура_Key eq guid{Q}{NUT}{Q}"}
    if form == "doubled":  # OData string-literal escaping
        return f"{SLICE}({PERIOD},Condition={Q}Номенклатура_Key eq guid{Q * 2}{NUT}{Q * 3})", {}
    # nested, unescaped, as clients of live ZUP bases send it
    return f"{SLICE}(Condition={Q}Номенклатура_Key eq guid{Q}{NUT}{Q * 2},{PERIOD})", {}


@pytest.mark.parametrize("form", ["query", "query, no parentheses", "doubled", "nested"])
def test_slicelast_accepts_each_condition_form(onec: httpx.Client, form: str) -> None:
    onec.post(
        onec.base_url.copy_with(path="/_sandbox/prices"),
        json={"Номенклатура_Key": NUT, "Цена": 4, "Period": "2025-02-01T00:00:00"},
    ).raise_for_status()
    path, options = _nut_condition(form)

    rows = get_json(onec, path, **options)["value"]

    assert [(r["Номенклатура_Key"], r["Цена"]) for r in rows] == [(NUT, 4)]


@pytest.mark.parametrize("form", ["query", "doubled", "nested"])
def test_balance_accepts_each_condition_form(onec: httpx.Client, form: str) -> None:
    store = f"СтруктурнаяЕдиница_Key eq guid{Q}{SECOND_STORE}{Q}"
    options = {"$filter": f"Номенклатура_Key eq guid'{BOLT}'"}
    if form == "query":
        path = f"{BALANCE}(Dimensions='Номенклатура')"
        options["Condition"] = store
    elif form == "doubled":
        path = f"{BALANCE}(Dimensions='Номенклатура',Condition={Q}{store.replace(Q, Q * 2)}{Q})"
    else:
        path = f"{BALANCE}(Condition={Q}{store}{Q},Dimensions='Номенклатура')"

    rows = get_json(onec, path, **options)["value"]

    assert rows == [{"Номенклатура_Key": BOLT, "КоличествоBalance": 500}]


def test_nested_condition_with_two_literals_and_a_following_parameter(onec: httpx.Client) -> None:
    condition = f"Номенклатура_Key eq guid{Q}{NUT}{Q} and ВидЦен_Key ne guid{Q}{EMPTY_GUID}{Q}"
    rows = get_json(onec, f"{SLICE}(Condition={Q}{condition}{Q},{PERIOD})")["value"]
    assert {r["Номенклатура_Key"] for r in rows} == {NUT}


def test_condition_in_the_path_and_the_query_at_once_is_refused(onec: httpx.Client) -> None:
    path = f"{SLICE}(Condition={Q}Номенклатура_Key eq guid{Q * 2}{NUT}{Q * 3})"
    response = onec.get(url(path, **{"$format": "json", "Condition": f"Номенклатура_Key eq guid'{BOLT}'"}))
    assert response.status_code == 400


# ------------------------------------------------------------------ the bridge's client on it


def _bridge_client(onec: httpx.Client) -> ODataClient:
    return ODataClient(str(onec.base_url), "odata", "odata", max_attempts=1)


def test_the_client_counts_through_the_count_segment(onec: httpx.Client) -> None:
    client = _bridge_client(onec)
    assert client.count("Catalog_СтавкиНДС") == 4
    assert client.count("Catalog_СтавкиНДС", filter=eq("НеОблагается", True)) == 1


def test_the_client_sends_condition_in_the_guides_form_and_gets_only_matching_rows(
    onec: httpx.Client,
) -> None:
    client = _bridge_client(onec)

    prices = client.slice_last(
        SLICE.split("/")[0], period=datetime(2030, 1, 1), condition=eq("Номенклатура_Key", guid(NUT))
    )
    stock = client.balance(
        BALANCE.split("/")[0],
        condition=eq("СтруктурнаяЕдиница_Key", guid(SECOND_STORE)),
        dimensions=["Номенклатура"],
        filter=eq("Номенклатура_Key", guid(BOLT)),
    )

    assert {row["Номенклатура_Key"] for row in prices} == {NUT}
    assert stock == [{"Номенклатура_Key": BOLT, "КоличествоBalance": 500}]


# ------------------------------------------------------------------ §1 ValueType, §2 folders

PROPERTIES = "ChartOfCharacteristicTypes_ДополнительныеРеквизитыИСведения"


def test_value_type_reads_back_with_all_four_qualifiers_in_their_wire_types(onec: httpx.Client) -> None:
    body = {
        "Description": "bitrix_id",
        "Заголовок": "Bitrix ID",
        "Виден": True,
        "Доступен": True,
        "ValueType": {"Types": ["String"], "StringQualifiers": {"AllowedLength": "Variable", "Length": "50"}},
    }
    created = onec.post(url(PROPERTIES, **{"$format": "json"}), json=body)
    assert created.status_code == 201, created.text

    value_type = get_json(onec, f"{PROPERTIES}(guid'{created.json()['Ref_Key']}')")["ValueType"]

    assert value_type == {
        "Types": ["String"],
        "NumberQualifiers": {"AllowedSign": "Any", "Digits": 0, "FractionDigits": 0},
        "StringQualifiers": {"AllowedLength": "Variable", "Length": "50"},
        "DateQualifiers": {"DateFractions": "DateTime"},
        "BinaryDataQualifiers": {"AllowedLength": "Variable", "Length": "0"},
    }


def test_the_seeded_deal_property_is_a_string_by_the_platforms_type_name(onec: httpx.Client) -> None:
    rows = get_json(onec, PROPERTIES, **{"$filter": "Description eq 'ID сделки Битрикс24'"})["value"]
    assert [row["ValueType"]["Types"] for row in rows] == [["String"]]


def test_a_counterparty_folder_is_created_at_the_top_level(onec: httpx.Client) -> None:
    created = onec.post(
        url("Catalog_Контрагенты", **{"$format": "json"}), json={"Description": "Bitrix24", "IsFolder": True}
    )
    assert created.status_code == 201, created.text
    folder = created.json()
    assert (folder["IsFolder"], folder["Parent_Key"]) == (True, EMPTY_GUID)
