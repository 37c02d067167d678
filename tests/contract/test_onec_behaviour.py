"""One test per documented quirk of the 1C:УНФ OData emulator (README §4–§8, §10)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from sandbox.onec import BITRIX_DEAL_PROPERTY, OneCEmulatorConfig, create_app
from sandbox.serve import serve_in_thread
from sandbox.world.onec import url
from tests.harness.onec import BASE, EMPTY_GUID, get_json, odata_error, ref

pytestmark = pytest.mark.contract

ORDER = ref("Document_ЗаказПокупателя", "Заказ Альфа-Строй")
BUYER = ref("Catalog_Контрагенты", "Альфа-Строй ООО")
BOLT = ref("Catalog_Номенклатура", "Болт М10х50")
NUT = ref("Catalog_Номенклатура", "Гайка М10")
MAIN_STORE = ref("Catalog_СтруктурныеЕдиницы", "Основной склад")
SECOND_STORE = ref("Catalog_СтруктурныеЕдиницы", "Склад №2")
WHOLESALE = ref("Catalog_ВидыЦен", "Оптовая")
DEAL_PROPERTY = ref("ChartOfCharacteristicTypes_ДополнительныеРеквизитыИСведения", BITRIX_DEAL_PROPERTY)
STATE_TYPE = "StandardODATA.Catalog_СостоянияЗаказовПокупателей"
JSON = {"$format": "json"}


def sandbox_url(client: httpx.Client, path: str) -> httpx.URL:
    return client.base_url.copy_with(path=f"/_sandbox/{path}")


def create(onec: httpx.Client, set_name: str, body: dict[str, Any]) -> dict[str, Any]:
    response = onec.post(url(set_name, **JSON), json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def patch(onec: httpx.Client, path: str, body: Any, **headers: str) -> httpx.Response:
    return onec.patch(url(path, **JSON), json=body, headers=headers)


def order_path(ref_key: str = ORDER) -> str:
    return f"Document_ЗаказПокупателя(guid'{ref_key}')"


def stock_row(line: int, item: str, quantity: float, total: float) -> dict[str, Any]:
    return {
        "LineNumber": line,
        "Номенклатура_Key": item,
        "Количество": quantity,
        "Цена": total / quantity,
        "Сумма": total,
        "Всего": total,
    }


def names(body: dict[str, Any], field: str = "Description") -> list[str]:
    return [item[field] for item in body["value"]]


# ------------------------------------------------------------------ transport


def test_basic_auth_is_required(onec_http: httpx.Client) -> None:
    response = httpx.get(str(onec_http.base_url) + "?$format=json")
    assert response.status_code == 401
    assert "basic" in response.headers["www-authenticate"].lower()
    assert onec_http.get("?$format=json", auth=("odata", "wrong")).status_code == 401


def test_utf8_cyrillic_login_is_accepted() -> None:
    server = serve_in_thread(
        create_app(OneCEmulatorConfig(username="Интеграция", password="пароль", seed=False))
    )
    try:
        token = base64.b64encode("Интеграция:пароль".encode()).decode()
        cp1251 = base64.b64encode("Интеграция:пароль".encode("cp1251")).decode()
        ok = httpx.get(f"{server.url}{BASE}?$format=json", headers={"Authorization": f"Basic {token}"})
        refused = httpx.get(f"{server.url}{BASE}?$format=json", headers={"Authorization": f"Basic {cp1251}"})
        assert (ok.status_code, refused.status_code) == (200, 401)
    finally:
        server.stop()


def test_accept_header_alone_switches_to_json(onec: httpx.Client) -> None:
    response = onec.get("Catalog_СтавкиНДС", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["value"]


def test_default_atom_representation_is_refused_explicitly(onec: httpx.Client) -> None:
    response = onec.get("Catalog_СтавкиНДС")
    assert response.status_code == 400
    assert "<m:code>3</m:code>" in response.text


def test_unpublished_set_answers_404(onec: httpx.Client) -> None:
    status, _ = odata_error(onec.get(url("Catalog_ДополнительныеРеквизитыИСведения", **JSON)))
    assert status == 404


def test_publication_composition_is_configurable() -> None:
    app = create_app(OneCEmulatorConfig(published=frozenset({"Catalog_Номенклатура"})))
    server = serve_in_thread(app)
    try:
        with httpx.Client(base_url=server.url + BASE, auth=("odata", "odata")) as http:
            assert http.get(url("Catalog_Номенклатура", **JSON)).status_code == 200
            assert http.get(url("Catalog_Контрагенты", **JSON)).status_code == 404
            assert {i["name"] for i in http.get("?$format=json").json()["value"]} == {
                "Catalog_Номенклатура",
                "Catalog_Номенклатура_ДополнительныеРеквизиты",
            }
    finally:
        server.stop()


# ------------------------------------------------------------------ value encoding


def test_int64_values_are_json_strings(onec: httpx.Client) -> None:
    order = get_json(onec, order_path())
    counted = get_json(onec, "Catalog_СтавкиНДС", **{"$inlinecount": "allpages"})
    assert order["Кратность"] == "1"
    assert order["Запасы"][0]["LineNumber"] == "1"
    assert counted["odata.count"] == "4"


def test_double_values_are_json_numbers(onec: httpx.Client) -> None:
    order = get_json(onec, order_path())
    assert order["СуммаДокумента"] == 1250
    assert order["Запасы"][0]["СуммаНДС"] == 208.33


def test_empty_reference_and_empty_date_forms(onec: httpx.Client) -> None:
    order = get_json(onec, order_path())
    assert order["Проект_Key"] == EMPTY_GUID
    assert order["ДатаОтгрузки"] == "0001-01-01T00:00:00"
    assert order["Проект@navigationLinkUrl"] == f"{order_path()}/Проект"


def test_dates_have_no_zone(onec: httpx.Client) -> None:
    assert get_json(onec, order_path())["Date"] == "2024-03-01T10:00:00"


def test_navigation_link_resolves_the_reference(onec: httpx.Client) -> None:
    body = get_json(onec, f"{order_path()}/Контрагент")
    assert body["Ref_Key"] == BUYER
    assert body["odata.metadata"].endswith("#Catalog_Контрагенты/@Element")


# ------------------------------------------------------------------ writes


def test_post_returns_201_location_with_raw_utf8_and_full_object(onec: httpx.Client) -> None:
    response = onec.post(url("Catalog_Номенклатура", **JSON), json={"Description": "Новый товар"})
    raw = dict(response.headers.raw)[b"location"]
    body = response.json()
    assert response.status_code == 201
    assert raw.decode("utf-8").endswith(f"/Catalog_Номенклатура(guid'{body['Ref_Key']}')")
    assert "Артикул" in body
    assert body["odata.metadata"].endswith("#Catalog_Номенклатура/@Element")


def test_data_version_is_zero_counter_after_create(onec: httpx.Client) -> None:
    assert create(onec, "Catalog_Номенклатура", {"Description": "x"})["DataVersion"] == "AAAAAAAAAAA="


def test_data_version_changes_on_every_write(onec: httpx.Client) -> None:
    item = create(onec, "Catalog_Номенклатура", {"Description": "x"})
    path = f"Catalog_Номенклатура(guid'{item['Ref_Key']}')"
    versions = [item["DataVersion"]]
    for body in ({}, {"Description": "x"}, {"DeletionMark": True}):
        versions.append(patch(onec, path, body).json()["DataVersion"])
    assert len(set(versions)) == 4
    assert base64.b64decode(versions[-1]) == (3).to_bytes(8, "big")


def test_code_and_number_are_zero_padded_sequences(onec: httpx.Client) -> None:
    first = create(onec, "Catalog_Контрагенты", {"Description": "A"})
    second = create(onec, "Catalog_Контрагенты", {"Description": "B"})
    order = create(onec, "Document_ЗаказПокупателя", {})
    assert len(first["Code"]) == 9
    assert int(second["Code"]) == int(first["Code"]) + 1
    assert order["Number"] == "00000000002"


def test_patch_returns_full_object_and_changes_only_sent_fields(onec: httpx.Client) -> None:
    before = get_json(onec, f"Catalog_Контрагенты(guid'{BUYER}')")
    after = patch(onec, f"Catalog_Контрагенты(guid'{BUYER}')", {"Комментарий": "VIP"})
    changed = {k for k, v in after.json().items() if before.get(k) != v}
    assert after.status_code == 200
    assert changed == {"Комментарий", "DataVersion"}


def test_unknown_fields_and_ref_key_in_body_are_ignored(onec: httpx.Client) -> None:
    response = patch(
        onec,
        f"Catalog_Контрагенты(guid'{BUYER}')",
        {"НетТакогоПоля": 1, "Ref_Key": EMPTY_GUID, "Description": "Альфа"},
    )
    assert response.status_code == 200
    assert response.json()["Ref_Key"] == BUYER


def test_no_optimistic_locking(onec: httpx.Client) -> None:
    path = f"Catalog_Контрагенты(guid'{BUYER}')"
    stale = get_json(onec, path)["DataVersion"]
    patch(onec, path, {"Комментарий": "1"})
    response = patch(onec, path, {"Комментарий": "2", "DataVersion": stale}, **{"If-Match": f'W/"{stale}"'})
    assert response.status_code == 200
    assert response.json()["Комментарий"] == "2"
    assert "etag" not in response.headers


def test_tabular_section_in_patch_replaces_whole_section(onec: httpx.Client) -> None:
    rows = [stock_row(1, BOLT, 10, 125), stock_row(2, NUT, 10, 32)]
    assert len(patch(onec, order_path(), {"Запасы": rows}).json()["Запасы"]) == 2
    single = patch(onec, order_path(), {"Запасы": [stock_row(1, NUT, 1, 3.2)]}).json()["Запасы"]
    assert [r["Номенклатура_Key"] for r in single] == [NUT]


def test_rows_without_line_number_give_500_code_minus_1(onec: httpx.Client) -> None:
    response = patch(onec, order_path(), {"Запасы": [{"Номенклатура_Key": BOLT}]})
    assert odata_error(response) == (500, "-1")
    assert len(get_json(onec, order_path())["Запасы"]) == 1


def test_line_numbers_not_starting_at_one_give_400(onec: httpx.Client) -> None:
    response = patch(onec, order_path(), {"Запасы": [stock_row(2, BOLT, 1, 1), stock_row(3, NUT, 1, 1)]})
    assert response.status_code == 400


def test_line_numbers_as_strings_are_accepted(onec: httpx.Client) -> None:
    row = {**stock_row(1, BOLT, 2, 25), "LineNumber": "1"}
    assert patch(onec, order_path(), {"Запасы": [row]}).status_code == 200


def test_post_into_tabular_section_set_gives_code_13(onec: httpx.Client) -> None:
    assert odata_error(onec.post(url("Document_ЗаказПокупателя_Запасы", **JSON), json={}))[1] == "13"


def test_delete_answers_204_then_404(onec: httpx.Client) -> None:
    item = create(onec, "Catalog_Номенклатура", {"Description": "x"})
    path = f"Catalog_Номенклатура(guid'{item['Ref_Key']}')"
    assert onec.delete(url(path, **JSON)).status_code == 204
    assert odata_error(onec.get(url(path, **JSON))) == (404, "9")


def test_overlong_string_is_truncated(onec: httpx.Client) -> None:
    item = create(onec, "Catalog_Номенклатура", {"Description": "Я" * 150, "Артикул": "A" * 40})
    assert len(item["Description"]) == 100
    assert len(item["Артикул"]) == 25


def test_broken_reference_is_stored_as_is(onec: httpx.Client) -> None:
    ghost = "0badf00d-0000-4000-8000-000000000000"
    item = create(onec, "Catalog_Номенклатура", {"Description": "x", "Parent_Key": ghost})
    assert item["Parent_Key"] == ghost


def test_invalid_guid_gives_400_code_1_with_echo(onec: httpx.Client) -> None:
    response = onec.post(url("Catalog_Номенклатура", **JSON), json={"Parent_Key": "abc"})
    assert odata_error(response) == (400, "1")
    assert "'abc'" in response.text


def test_order_sum_is_recomputed_from_rows_on_every_write(onec: httpx.Client) -> None:
    body = patch(
        onec,
        order_path(),
        {"СуммаДокумента": 1, "Запасы": [stock_row(1, BOLT, 4, 50), stock_row(2, NUT, 10, 32)]},
    ).json()
    assert body["СуммаДокумента"] == 82
    assert patch(onec, order_path(), {"СуммаДокумента": 999}).json()["СуммаДокумента"] == 82


def test_order_change_date_is_set_on_every_write(onec_http: httpx.Client) -> None:
    server = serve_in_thread(create_app(OneCEmulatorConfig(fixed_now="2031-05-06T07:08:09")))
    try:
        with httpx.Client(base_url=server.url + BASE, auth=("odata", "odata")) as http:
            http.patch(url(order_path(), **JSON), json={"ДатаИзменения": "2000-01-01T00:00:00"})
            assert get_json(http, order_path())["ДатаИзменения"] == "2031-05-06T07:08:09"
    finally:
        server.stop()


def test_order_state_change_writes_state_history(onec: httpx.Client) -> None:
    done = ref("Catalog_СостоянияЗаказовПокупателей", "Завершен")
    patch(
        onec,
        order_path(),
        {"СостояниеЗаказа": done, "СостояниеЗаказа_Type": STATE_TYPE, "ВариантЗавершения": "Успешно"},
    )
    history = get_json(
        onec, "InformationRegister_ИсторияСостоянийЗаказов", **{"$filter": f"Заказ eq guid'{ORDER}'"}
    )
    assert [r["Состояние"] for r in history["value"]][-1] == done


def test_post_and_unpost_flip_posted_and_bump_data_version(onec: httpx.Client) -> None:
    before = get_json(onec, order_path())["DataVersion"]
    assert onec.post(f"{order_path()}/Post?PostingModeOperational=false").status_code == 200
    posted = get_json(onec, order_path())
    assert posted["Posted"] is True
    assert posted["DataVersion"] != before
    onec.post(f"{order_path()}/Unpost")
    assert get_json(onec, order_path())["Posted"] is False


def test_posting_a_shipment_writes_stock_movements_and_unposting_removes_them(onec: httpx.Client) -> None:
    def bolts_in_main() -> float:
        rows = get_json(
            onec,
            "AccumulationRegister_ЗапасыНаСкладах/Balance()",
            **{
                "$filter": f"Номенклатура_Key eq guid'{BOLT}' "
                f"and СтруктурнаяЕдиница_Key eq guid'{MAIN_STORE}'"
            },
        )
        return float(sum(r["КоличествоBalance"] for r in rows["value"]))

    shipment = create(
        onec,
        "Document_РасходнаяНакладная",
        {
            "Date": "2024-04-01T00:00:00",
            "ВидОперации": "ПродажаПокупателю",
            "СтруктурнаяЕдиница_Key": MAIN_STORE,
            "Организация_Key": ref("Catalog_Организации", 'ООО "Металл-Сервис"'),
            "Заказ": ORDER,
            "Заказ_Type": "StandardODATA.Document_ЗаказПокупателя",
            "Запасы": [stock_row(1, BOLT, 150, 1875)],
        },
    )
    path = f"Document_РасходнаяНакладная(guid'{shipment['Ref_Key']}')"
    assert bolts_in_main() == 2000
    onec.post(f"{path}/Post?PostingModeOperational=false")
    assert bolts_in_main() == 1850
    onec.post(f"{path}/Unpost")
    assert bolts_in_main() == 2000


# ------------------------------------------------------------------ $filter


def test_plus_in_filter_is_addition_so_plus_encoded_spaces_fail(onec: httpx.Client) -> None:
    broken = onec.get("Catalog_Номенклатура?$format=json&$filter=Description+eq+'Гайка М10'")
    fine = onec.get(url("Catalog_Номенклатура", **JSON, **{"$filter": "Description eq 'Гайка М10'"}))
    assert odata_error(broken) == (400, "14")
    assert names(fine.json()) == ["Гайка М10"]


def test_filter_arithmetic_operators(onec: httpx.Client) -> None:
    body = get_json(onec, "Document_ЗаказПокупателя", **{"$filter": "СуммаДокумента add 50 eq 1300"})
    assert len(body["value"]) == 1


def test_filter_logic_with_parentheses_and_not(onec: httpx.Client) -> None:
    text = "IsFolder eq false and (Артикул eq 'Ш-10' or Артикул eq 'ГМ-10') and not (DeletionMark eq true)"
    assert sorted(names(get_json(onec, "Catalog_Номенклатура", **{"$filter": text}))) == [
        "Гайка М10",
        "Шайба 10",
    ]


def test_filter_substringof_is_case_insensitive(onec: httpx.Client) -> None:
    body = get_json(onec, "Catalog_Номенклатура", **{"$filter": "substringof('труба', Description)"})
    assert len(body["value"]) == 3


def test_filter_guid_and_datetime_literals(onec: httpx.Client) -> None:
    text = (
        f"Контрагент_Key eq guid'{BUYER}' and Date ge datetime'2024-03-01T00:00:00' "
        "and Date lt datetime'2024-03-02T00:00:00'"
    )
    assert len(get_json(onec, "Document_ЗаказПокупателя", **{"$filter": text})["value"]) == 1


def test_filter_cast_on_composite_field(onec: httpx.Client) -> None:
    working = ref("Catalog_СостоянияЗаказовПокупателей", "В работе")
    wrong_type = get_json(
        onec,
        "Document_ЗаказПокупателя",
        **{"$filter": f"СостояниеЗаказа eq cast(guid'{working}', 'Catalog_СостоянияЗаказНарядов')"},
    )
    right = get_json(
        onec,
        "Document_ЗаказПокупателя",
        **{"$filter": f"СостояниеЗаказа eq cast(guid'{working}', 'Catalog_СостоянияЗаказовПокупателей')"},
    )
    assert (len(wrong_type["value"]), len(right["value"])) == (0, 1)


def test_filter_lambda_any_on_additional_attributes(onec: httpx.Client) -> None:
    row = {"LineNumber": 1, "Свойство_Key": DEAL_PROPERTY, "Значение": "123", "Значение_Type": "Edm.String"}
    patch(onec, order_path(), {"ДополнительныеРеквизиты": [row]})
    text = f"ДополнительныеРеквизиты/any(d: d/Свойство_Key eq guid'{DEAL_PROPERTY}' and d/Значение eq '123')"
    miss = text.replace("'123'", "'124'")
    assert len(get_json(onec, "Document_ЗаказПокупателя", **{"$filter": text})["value"]) == 1
    assert get_json(onec, "Document_ЗаказПокупателя", **{"$filter": miss})["value"] == []


def test_filter_lambda_on_payment_rows_by_order(onec: httpx.Client) -> None:
    create(
        onec,
        "Document_ПоступлениеНаСчет",
        {
            "ВидОперации": "ОтПокупателя",
            "РасшифровкаПлатежа": [
                {
                    "LineNumber": 1,
                    "Заказ": ORDER,
                    "Заказ_Type": "StandardODATA.Document_ЗаказПокупателя",
                    "СуммаПлатежа": 500,
                }
            ],
        },
    )
    body = get_json(
        onec,
        "Document_ПоступлениеНаСчет",
        **{"$filter": f"РасшифровкаПлатежа/any(d: d/Заказ eq guid'{ORDER}')"},
    )
    assert body["value"][0]["РасшифровкаПлатежа"][0]["Заказ_Type"] == "StandardODATA.Document_ЗаказПокупателя"


def test_filter_lambda_all(onec: httpx.Client) -> None:
    body = get_json(onec, "Document_ЗаказПокупателя", **{"$filter": "Запасы/all(d: d/Количество gt 1000)"})
    assert body["value"] == []


def test_ordering_comparison_on_reference_gives_500(onec: httpx.Client) -> None:
    response = onec.get(url("Catalog_Номенклатура", **JSON, **{"$filter": f"Ref_Key gt guid'{BOLT}'"}))
    assert response.status_code == 500


def test_comparison_on_unlimited_string_gives_500(onec: httpx.Client) -> None:
    response = onec.get(
        url("Catalog_Номенклатура", **JSON, **{"$filter": "НаименованиеПолное eq 'Гайка М10'"})
    )
    assert response.status_code == 500


def test_enumeration_fields_compare_like_names(onec: httpx.Client) -> None:
    # Enumerations are Edm.String member names with no length; 1C compares them (unlike text).
    response = onec.get(
        url("Catalog_Контрагенты", **JSON, **{"$filter": "ВидКонтрагента eq 'ФизическоеЛицо'"})
    )
    assert response.status_code == 200
    rows = response.json()["value"]
    assert rows
    assert {row["ВидКонтрагента"] for row in rows} == {"ФизическоеЛицо"}


def test_filter_parse_error_gives_400_code_14(onec: httpx.Client) -> None:
    for text in ("Description eq", "Description in ('a')", "НетПоля eq 1", "Description eq 'x"):
        assert odata_error(onec.get(url("Catalog_Номенклатура", **JSON, **{"$filter": text}))) == (
            400,
            "14",
        ), text


def test_filter_by_navigation_path(onec: httpx.Client) -> None:
    body = get_json(onec, "Document_ЗаказПокупателя", **{"$filter": "Контрагент/ИНН eq '7705123456'"})
    assert len(body["value"]) == 1


# ------------------------------------------------------------------ other query options


def test_select_unknown_property_gives_400_code_6(onec: httpx.Client) -> None:
    response = onec.get(url("Catalog_Номенклатура", **JSON, **{"$select": "Description,Цвет"}))
    assert odata_error(response) == (400, "6")
    assert "Цвет" in response.text


def test_select_limits_properties(onec: httpx.Client) -> None:
    body = get_json(onec, "Catalog_Номенклатура", **{"$select": "Ref_Key,Артикул", "$top": "1"})
    assert set(body["value"][0]) == {"Ref_Key", "Артикул"}


def test_select_of_a_reference_links_each_row_to_its_own_object(onec: httpx.Client) -> None:
    body = get_json(onec, "Catalog_Номенклатура", **{"$select": "Parent_Key,Ref_Key,Description"})
    rows = body["value"]
    assert len(rows) > 2
    for row in rows:
        # Metadata order, not the order `$select` named them in; the link follows its key.
        assert list(row) == ["Ref_Key", "Description", "Parent_Key", "Parent@navigationLinkUrl"]
        assert row["Parent@navigationLinkUrl"] == f"Catalog_Номенклатура(guid'{row['Ref_Key']}')/Parent"


def test_orderby_several_fields_with_desc(onec: httpx.Client) -> None:
    body = get_json(
        onec, "Catalog_Номенклатура", **{"$orderby": "IsFolder desc,Description asc", "$top": "3"}
    )
    assert names(body) == ["Крепёж", "Листы", "Материалы"]


def test_orderby_reference_sorts_by_referenced_description(onec: httpx.Client) -> None:
    body = get_json(
        onec,
        "Catalog_Номенклатура",
        **{
            "$filter": "IsFolder eq false",
            "$orderby": "Parent_Key desc,Description",
            "$select": "Description",
        },
    )
    # Parents by name, descending: "Услуги" first, "Крепёж" last — not by the parents' GUIDs.
    assert names(body)[:2] == ["Доставка по городу", "Монтаж металлоконструкций"]
    assert names(body)[-1] == "Шайба 10"


def test_top_and_skip_page_without_gaps(onec: httpx.Client) -> None:
    full = names(get_json(onec, "Catalog_Номенклатура", **{"$orderby": "Code"}))
    pages = [
        names(get_json(onec, "Catalog_Номенклатура", **{"$orderby": "Code", "$top": "5", "$skip": str(s)}))
        for s in range(0, len(full), 5)
    ]
    assert [n for page in pages for n in page] == full


def test_expand_only_with_navigation_in_select(onec: httpx.Client) -> None:
    without_select = get_json(onec, "Document_ЗаказПокупателя", **{"$expand": "Контрагент"})
    with_select = get_json(
        onec, "Document_ЗаказПокупателя", **{"$select": "Number,Контрагент/ИНН", "$expand": "Контрагент"}
    )
    assert "Контрагент" not in without_select["value"][0]
    assert with_select["value"][0] == {"Number": "00000000001", "Контрагент": {"ИНН": "7705123456"}}


def test_count_segment_answers_plain_number(onec: httpx.Client) -> None:
    response = onec.get(url("Catalog_СтавкиНДС/$count", **JSON))
    assert response.text == "4"


# ------------------------------------------------------------------ virtual tables and registers


def test_slicelast_returns_latest_price_per_item(onec: httpx.Client) -> None:
    onec.post(
        sandbox_url(onec, "prices"),
        json={"Номенклатура_Key": BOLT, "Цена": 14, "Period": "2025-02-01T00:00:00"},
    )
    path = "InformationRegister_ЦеныНоменклатуры/SliceLast(Period=datetime'2030-01-01T00:00:00')"
    latest = get_json(onec, path, **{"$filter": f"Номенклатура_Key eq guid'{BOLT}'"})
    earlier = get_json(onec, path.replace("2030", "2024"), **{"$filter": f"Номенклатура_Key eq guid'{BOLT}'"})
    assert [r["Цена"] for r in latest["value"]] == [14]
    assert [r["Цена"] for r in earlier["value"]] == [12.5]


def test_balance_with_dimensions_and_condition(onec: httpx.Client) -> None:
    path = (
        f"AccumulationRegister_ЗапасыНаСкладах/Balance(Dimensions='Номенклатура',"
        f"Condition='СтруктурнаяЕдиница_Key eq guid''{SECOND_STORE}''')"
    )
    rows = get_json(onec, path, **{"$filter": f"Номенклатура_Key eq guid'{BOLT}'"})["value"]
    assert rows == [{"Номенклатура_Key": BOLT, "КоличествоBalance": 500}]


def test_balance_on_register_without_balance_gives_code_6(onec: httpx.Client) -> None:
    assert odata_error(onec.get(url("InformationRegister_ЦеныНоменклатуры/Balance()", **JSON))) == (400, "6")


def test_register_record_duplicate_key_gives_400(onec: httpx.Client) -> None:
    record = {"Period": "2024-01-01T00:00:00", "ВидЦен_Key": WHOLESALE, "Номенклатура_Key": BOLT, "Цена": 1}
    assert onec.post(url("InformationRegister_ЦеныНоменклатуры", **JSON), json=record).status_code == 400


# ------------------------------------------------------------------ seed


def test_seed_nomenclature_tree_is_three_levels_deep(onec: httpx.Client) -> None:
    pipe = get_json(
        onec, f"Catalog_Номенклатура(guid'{ref('Catalog_Номенклатура', 'Труба круглая 57х3,5')}')"
    )
    chain = []
    parent = pipe["Parent_Key"]
    while parent != EMPTY_GUID:
        folder = get_json(onec, f"Catalog_Номенклатура(guid'{parent}')")
        chain.append(folder["Description"])
        parent = folder["Parent_Key"]
    assert chain == ["Трубы", "Металлопрокат", "Материалы"]
    assert pipe["Артикул"] == "ТК-5735"


def test_seed_order_states_include_predefined_completed(onec: httpx.Client) -> None:
    states = get_json(onec, "Catalog_СостоянияЗаказовПокупателей")["value"]
    assert {s["Description"] for s in states} >= {"Новый", "В работе", "Завершен", "Отменен"}
    assert [s["PredefinedDataName"] for s in states if s["Predefined"]] == ["Завершен"]


def test_seed_deal_property_is_attached_to_order_set(onec: httpx.Client) -> None:
    sets = get_json(
        onec,
        "Catalog_НаборыДополнительныхРеквизитовИСведений",
        **{"$filter": "PredefinedDataName eq 'Документ_ЗаказПокупателя'"},
    )["value"]
    assert [r["Свойство_Key"] for r in sets[0]["ДополнительныеРеквизиты"]] == [DEAL_PROPERTY]


def test_employee_is_found_by_email(onec: httpx.Client) -> None:
    persons = get_json(
        onec,
        "Catalog_ФизическиеЛица",
        **{"$filter": "КонтактнаяИнформация/any(k: k/АдресЭП eq 's.kuznetsov@sandbox.example')"},
    )["value"]
    employees = get_json(
        onec, "Catalog_Сотрудники", **{"$filter": f"Физлицо_Key eq guid'{persons[0]['Ref_Key']}'"}
    )
    assert names(employees) == ["Кузнецов Сергей Андреевич"]


# ------------------------------------------------------------------ /_sandbox


def test_sandbox_journal_lists_calls_oldest_first_with_since_cursor(onec: httpx.Client) -> None:
    onec.delete(sandbox_url(onec, "calls"))
    onec.get(url("Catalog_СтавкиНДС", **JSON))
    first = onec.get(sandbox_url(onec, "calls")).json()
    onec.get(url("Catalog_Валюты", **JSON, **{"$filter": "Code eq '643'"}))
    later = onec.get(sandbox_url(onec, "calls"), params={"since": first["last_seq"]}).json()["calls"]
    assert [c["path"] for c in first["calls"]] == ["Catalog_СтавкиНДС"]
    assert [(c["method"], c["path"], c["query"]["$filter"], c["status"]) for c in later] == [
        ("GET", "Catalog_Валюты", "Code eq '643'", 200)
    ]


def test_sandbox_fault_error_fails_next_matching_requests(onec: httpx.Client) -> None:
    onec.post(
        sandbox_url(onec, "faults"),
        json={"kind": "error", "count": 1, "path_prefix": "Document_", "method": "GET"},
    )
    assert onec.get(url("Catalog_СтавкиНДС", **JSON)).status_code == 200
    assert odata_error(onec.get(url(order_path(), **JSON))) == (500, "-1")
    assert onec.get(url(order_path(), **JSON)).status_code == 200


def test_sandbox_fault_hang_times_out_the_client(onec: httpx.Client) -> None:
    onec.post(
        sandbox_url(onec, "faults"), json={"kind": "hang", "seconds": 2, "path_prefix": "Catalog_Валюты"}
    )
    with pytest.raises(httpx.ReadTimeout):
        onec.get(url("Catalog_Валюты", **JSON), timeout=0.2)


def test_sandbox_fault_slow_still_answers(onec: httpx.Client) -> None:
    onec.post(
        sandbox_url(onec, "faults"), json={"kind": "slow", "seconds": 0.01, "path_prefix": "Catalog_Валюты"}
    )
    assert onec.get(url("Catalog_Валюты", **JSON)).status_code == 200
    assert onec.get(sandbox_url(onec, "faults")).json()["faults"] == []


def test_sandbox_snapshot_restores_state(onec: httpx.Client) -> None:
    snapshot = onec.get(sandbox_url(onec, "snapshot")).json()
    item = create(onec, "Catalog_Номенклатура", {"Description": "временный"})
    onec.post(sandbox_url(onec, "snapshot"), json=snapshot)
    assert onec.get(url(f"Catalog_Номенклатура(guid'{item['Ref_Key']}')", **JSON)).status_code == 404


def test_sandbox_stock_helper_sets_balance(onec: httpx.Client) -> None:
    onec.post(
        sandbox_url(onec, "stock"),
        json={"Номенклатура_Key": NUT, "СтруктурнаяЕдиница_Key": SECOND_STORE, "Количество": 42},
    )
    rows = get_json(
        onec,
        "AccumulationRegister_ЗапасыНаСкладах/Balance()",
        **{"$filter": f"Номенклатура_Key eq guid'{NUT}' and СтруктурнаяЕдиница_Key eq guid'{SECOND_STORE}'"},
    )
    assert [r["КоличествоBalance"] for r in rows["value"]] == [42]


def test_app_state_is_inspectable_in_process() -> None:
    app = create_app()
    assert app.state.base.store.get("Catalog_Контрагенты", BUYER)["ИНН"] == "7705123456"


# ------------------------------------------------------------------ contact-person roles


def test_the_roles_catalog_that_contact_persons_refer_to_is_published(onec: httpx.Client) -> None:
    """README §10.2: `Catalog_КонтактныеЛица` has the tabular `Роли` whose `Роль_Key` refers to
    `Catalog_РолиКонтактныхЛиц` (derived model); the catalog itself answers like any catalog."""
    role = create(onec, "Catalog_РолиКонтактныхЛиц", {"Description": "Клиент"})
    assert role["odata.metadata"].endswith("#Catalog_РолиКонтактныхЛиц/@Element")
    assert {"Ref_Key", "Code", "Description", "DeletionMark", "Predefined", "DataVersion"} <= role.keys()
    person = create(
        onec,
        "Catalog_КонтактныеЛица",
        {
            "Description": "Сидоров Пётр",
            "Owner_Key": BUYER,
            "Роли": [{"LineNumber": 1, "Роль_Key": role["Ref_Key"]}],
        },
    )
    path = f"Catalog_КонтактныеЛица(guid'{person['Ref_Key']}')"
    assert get_json(onec, path)["Роли"] == [
        {"Ref_Key": person["Ref_Key"], "LineNumber": "1", "Роль_Key": role["Ref_Key"]}
    ]
    listed = get_json(onec, "Catalog_РолиКонтактныхЛиц", **{"$filter": "Description eq 'Клиент'"})
    assert names(listed) == ["Клиент"]
    metadata = onec.get(url("$metadata")).text
    assert 'EntityType Name="Catalog_РолиКонтактныхЛиц"' in metadata
