"""Replay of the reference examples (shared/reference/onec/examples, copied to tests/fixtures/onec)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.world.onec import url
from tests.harness.onec import EMPTY_GUID, fixture, get_json, json_type, odata_error, ref

pytestmark = pytest.mark.contract

BUYER = ref("Catalog_Контрагенты", "Альфа-Строй ООО")
ORDER = ref("Document_ЗаказПокупателя", "Заказ Альфа-Строй")
BOLT = ref("Catalog_Номенклатура", "Болт М10х50")
WHOLESALE = ref("Catalog_ВидыЦен", "Оптовая")
PIECE = ref("Catalog_КлассификаторЕдиницИзмерения", "шт")
MAIN_STORE = ref("Catalog_СтруктурныеЕдиницы", "Основной склад")
EDM = "{http://schemas.microsoft.com/ado/2009/11/edm}"


def child(element: ET.Element, path: str) -> ET.Element:
    found = element.find(path)
    assert found is not None, path
    return found


def assert_same_types(example: dict[str, Any], actual: dict[str, Any], names: list[str]) -> None:
    for name in names:
        assert name in actual, name
        assert json_type(actual[name]) == json_type(example[name]), (name, actual[name], example[name])


# ------------------------------------------------------------------ service document, $metadata


def test_service_document_response(onec: httpx.Client) -> None:
    example = fixture("service-document.response.json")
    actual = get_json(onec, "")
    assert set(actual) == set(example)
    assert actual["odata.metadata"].endswith("/unf/odata/standard.odata")
    names = {item["name"] for item in actual["value"]}
    assert all(set(item) == {"name", "url"} and item["name"] == item["url"] for item in actual["value"])
    # Tabular-section sets and `_RecordType` sets are listed, like in the example.
    assert {
        "Catalog_Контрагенты",
        "Catalog_Контрагенты_КонтактнаяИнформация",
        "Catalog_Номенклатура",
        "AccumulationRegister_ЗапасыНаСкладах",
        "AccumulationRegister_ЗапасыНаСкладах_RecordType",
        "Document_ЗаказПокупателя_Запасы",
        "Catalog_ДоговорыКонтрагентов",
        "Catalog_Пользователи",
    } <= names


def test_metadata_fragment_ut11_shapes(onec: httpx.Client) -> None:
    example = ET.fromstring(fixture("metadata.fragment.ut11.xml").encode("utf-8"))
    response = onec.get("$metadata")
    assert response.status_code == 200
    actual = ET.fromstring(response.content)
    assert actual.tag == example.tag
    assert actual.get("Version") == example.get("Version") == "1.0"
    services = "{http://schemas.microsoft.com/ado/2007/06/edmx}DataServices"
    meta = "{http://schemas.microsoft.com/ado/2007/08/dataservices/metadata}DataServiceVersion"
    assert child(actual, services).get(meta) == child(example, services).get(meta) == "3.0"
    schema = child(actual, f"{services}/{EDM}Schema")
    assert schema.get("Namespace") == "StandardODATA"
    container = child(schema, f"{EDM}EntityContainer")
    assert container.get("Name") == "EnterpriseV8"

    def params(function: ET.Element) -> list[str]:
        return [str(p.get("Name")) for p in function.findall(f"{EDM}Parameter")]

    example_functions = {f.get("Name"): f for f in example.iter(f"{EDM}FunctionImport")}
    for function in container.findall(f"{EDM}FunctionImport"):
        reference = example_functions[function.get("Name")]
        assert params(function) == params(reference)
        assert function.get("IsBindable") == "true"
        assert function.get("IsSideEffecting") == reference.get("IsSideEffecting")
    names = {f.get("Name") for f in container.findall(f"{EDM}FunctionImport")}
    assert {"Post", "Unpost", "SliceLast", "Balance"} <= names
    types = {t.get("Name"): t for t in schema.findall(f"{EDM}EntityType")}
    order = types["Document_ЗаказПокупателя"]
    assert order.get("OpenType") == "true"  # has composite СостояниеЗаказа + _Type
    assert [k.get("Name") for k in child(order, f"{EDM}Key")] == ["Ref_Key"]
    order_props = {p.get("Name"): p.get("Type") for p in order.findall(f"{EDM}Property")}
    assert order_props["Number"] == "Edm.String"
    assert order_props["Кратность"] == "Edm.Int64"
    assert order_props["СостояниеЗаказа_Type"] == "Edm.String"
    assert order_props["Запасы"] == "Collection(StandardODATA.Document_ЗаказПокупателя_Запасы_RowType)"
    assert types["Catalog_ВидыЦен"].get("OpenType") is None
    row_set = types["Document_ЗаказПокупателя_Запасы"]
    assert [k.get("Name") for k in child(row_set, f"{EDM}Key")] == ["Ref_Key", "LineNumber"]
    association = next(
        a for a in schema.findall(f"{EDM}Association") if a.get("Name") == "Catalog_Номенклатура_Parent"
    )
    assert [(e.get("Role"), e.get("Multiplicity")) for e in association] == [("Begin", "*"), ("End", "0..1")]


# ------------------------------------------------------------------ entities


def test_catalog_element_response(onec: httpx.Client) -> None:
    example = fixture("catalog.element.response.json")
    actual = get_json(onec, f"Catalog_Контрагенты(guid'{BUYER}')")
    assert actual["odata.metadata"].endswith("/$metadata#Catalog_Контрагенты/@Element")
    assert_same_types(
        example,
        actual,
        [
            "Ref_Key",
            "DataVersion",
            "Predefined",
            "PredefinedDataName",
            "Description",
            "Code",
            "DeletionMark",
            "Комментарий",
        ],
    )
    assert actual["ДатаРождения"] == example["Дата"] == "0001-01-01T00:00:00"
    assert re.fullmatch(r"[A-Za-z0-9+/]{11}=", actual["DataVersion"])
    row = actual["КонтактнаяИнформация"][0]
    assert row["LineNumber"] == "1"
    assert isinstance(example["Комментарии"][0]["LineNumber"], str)
    assert actual["Теги"] == example["Договоры"] == []
    link = actual["Ответственный@navigationLinkUrl"]
    assert link == f"Catalog_Контрагенты(guid'{BUYER}')/Ответственный"
    assert re.fullmatch(
        r"Catalog_Контрагенты\(guid'[0-9a-f-]{36}'\)/Город", example["Город@navigationLinkUrl"]
    )


def test_catalog_element_bp30(onec: httpx.Client) -> None:
    example = fixture("catalog.element.bp30.json")
    actual = get_json(onec, f"Catalog_Контрагенты(guid'{BUYER}')")
    assert_same_types(
        example,
        actual,
        [
            "Ref_Key",
            "DataVersion",
            "DeletionMark",
            "Parent_Key",
            "IsFolder",
            "Code",
            "Description",
            "НаименованиеПолное",
            "ИНН",
            "КПП",
            "КодПоОКПО",
            "Комментарий",
            "ИННВведенКорректно",
            "ДатаСоздания",
            "КонтактнаяИнформация",
            "ДополнительныеРеквизиты",
            "Predefined",
            "PredefinedDataName",
        ],
    )
    assert (
        actual["ВидКонтрагента"] == "ЮридическоеЛицо"
    )  # enum as member name, like ЮридическоеФизическоеЛицо
    assert (
        actual["БанковскийСчетПоУмолчанию_Key"]
        == example["УдалитьОсновнойДоговорКонтрагента_Key"]
        == EMPTY_GUID
    )
    assert actual["Parent@navigationLinkUrl"] == f"Catalog_Контрагенты(guid'{BUYER}')/Parent"
    assert len(actual["Code"]) == 9


def test_document_element_bp30(onec: httpx.Client) -> None:
    example = fixture("document.element.bp30.json")
    actual = get_json(onec, f"Document_ЗаказПокупателя(guid'{ORDER}')")
    assert actual["odata.metadata"].endswith("/$metadata#Document_ЗаказПокупателя/@Element")
    assert_same_types(
        example,
        actual,
        [
            "Ref_Key",
            "DataVersion",
            "DeletionMark",
            "Number",
            "Date",
            "Posted",
            "Комментарий",
            "СуммаВключаетНДС",
            "СуммаДокумента",
        ],
    )
    assert actual["Кратность"] == "1"
    assert example["КратностьВзаиморасчетов"] == "1"
    assert json_type(actual["Курс"]) == json_type(example["КурсВзаиморасчетов"]) == "number"
    assert actual["ВидЗаказа"] == example["Услуги"][0]["Субконто2"] == ""
    assert actual["ВидЗаказа_Type"] == example["Услуги"][0]["Субконто2_Type"] == "StandardODATA.Undefined"
    example_row, row = example["Услуги"][0], actual["Запасы"][0]
    assert row["Ref_Key"] == actual["Ref_Key"]
    assert example_row["Ref_Key"] == example["Ref_Key"]
    assert_same_types(
        example_row, row, ["LineNumber", "Количество", "Цена", "Сумма", "СуммаНДС", "Содержание"]
    )
    assert json_type(actual["ПоложениеВидаРабот"]) == json_type(example["СпособЗачетаАвансов"]) == "str"
    assert actual["Контрагент@navigationLinkUrl"] == f"Document_ЗаказПокупателя(guid'{ORDER}')/Контрагент"


def test_document_list_response(onec: httpx.Client) -> None:
    example = fixture("document.list.response.json")
    actual = get_json(onec, "Document_ЗаказПокупателя")
    assert list(actual) == list(example) == ["odata.metadata", "value"]
    assert actual["odata.metadata"].endswith("/$metadata#Document_ЗаказПокупателя")
    document, reference = actual["value"][0], example["value"][1]
    assert_same_types(
        reference,
        document,
        [
            "Ref_Key",
            "DataVersion",
            "DeletionMark",
            "Number",
            "Date",
            "Posted",
            "Контрагент_Key",
            "Комментарий",
            "Ответственный_Key",
        ],
    )
    assert len(document["Number"]) == len(reference["Number"]) == 11
    row, reference_row = document["Запасы"][0], reference["Товары"][0]
    assert_same_types(reference_row, row, ["Ref_Key", "LineNumber", "Номенклатура_Key", "Количество"])
    assert row["Ref_Key"] == document["Ref_Key"]
    assert "Номенклатура@navigationLinkUrl" not in row  # rows carry no navigation links


def test_document_element_composite_field(onec: httpx.Client) -> None:
    example = fixture("document.element.composite-field.json")
    actual = get_json(onec, f"Document_ЗаказПокупателя(guid'{ORDER}')")
    assert example["Субконто1_Type"].startswith("StandardODATA.Catalog_")
    assert actual["СостояниеЗаказа_Type"] == "StandardODATA.Catalog_СостоянияЗаказовПокупателей"
    assert actual["СостояниеЗаказа"] == ref("Catalog_СостоянияЗаказовПокупателей", "В работе")
    assert "СостояниеЗаказа@navigationLinkUrl" not in actual  # composite fields get no navigation


# ------------------------------------------------------------------ errors


def test_error_tabular_rows_direct_code13(onec: httpx.Client) -> None:
    response = onec.post(
        url("Document_ЗаказПокупателя_Запасы", **{"$format": "json"}),
        json={"Ref_Key": ORDER, "LineNumber": 2},
    )
    assert response.json() == fixture("error.tabular-rows-direct.code13.json")


def test_error_internal_code_minus_1(onec: httpx.Client) -> None:
    response = onec.patch(
        url(f"Document_ЗаказПокупателя(guid'{ORDER}')", **{"$format": "json"}),
        json={"Запасы": [{"Количество": 1}]},
    )
    assert response.status_code == 500
    assert response.json() == fixture("error.internal.code-1.json")


ERROR_TRIGGERS: dict[str, tuple[str, str, Any]] = {
    "Edm.Guid": ("PATCH", f"Catalog_Номенклатура(guid'{BOLT}')", {"Parent_Key": "не-guid"}),
    "Сегмент пути": ("GET", "Catalog_Номенклатура?$select=НетТакогоПоля", None),
    "Метод не найден": ("GET", "InformationRegister_ЦеныНоменклатуры/Balance()", None),
    "Экземпляр сущности": ("GET", "Catalog_Номенклатура(guid'0b5e2a4c-0000-0000-0000-000000000001')", None),
    "(entity set name echoed)": ("GET", "Catalog_НетТакогоСправочника", None),
    "Cоздание строк": ("POST", "Document_ЗаказПокупателя_Запасы", {"LineNumber": 1}),
    "$filter": ("GET", "Catalog_Номенклатура?$filter=Description in ('a')", None),
    "(record with these": ("POST", "InformationRegister_ЦеныНоменклатуры", "DUPLICATE"),
    "(not quoted in source)": (
        "PATCH",
        f"Document_ЗаказПокупателя(guid'{ORDER}')",
        {"Запасы": [{"LineNumber": 2, "Количество": 1}]},
    ),
    "Произошла внутренняя": (
        "PATCH",
        f"Document_ЗаказПокупателя(guid'{ORDER}')",
        {"Запасы": [{"Количество": 1}]},
    ),
    "Непредвиденный символ": ("PATCH", f"Document_ЗаказПокупателя(guid'{ORDER}')", "BROKEN"),
    "Ошибка при выполнении обработчика": ("POST", f"Document_ЗаказПокупателя(guid'{ORDER}')/Post", "MARKED"),
    "Неверные параметры": ("GET", f"Catalog_Номенклатура?$filter=Ref_Key gt guid'{BOLT}'", None),
    "(function over an unsuitable field)": (
        "GET",
        "Catalog_Номенклатура?$filter=substringof('1', Parent_Key)",
        None,
    ),
}
NOT_REPRODUCED = {"Error running processor - 'ОбработкаУдаленияПроведения'"}


def _observed_errors() -> list[dict[str, Any]]:
    return [e for e in fixture("error-codes.observed.json") if e["message_pattern"] not in NOT_REPRODUCED]


@pytest.mark.parametrize("entry", _observed_errors(), ids=lambda e: e["message_pattern"][:40])
def test_error_codes_observed(onec: httpx.Client, entry: dict[str, Any]) -> None:
    trigger = next(
        v
        for k, v in ERROR_TRIGGERS.items()
        if entry["message_pattern"].startswith(k) or k in entry["message_pattern"]
    )
    method, path, body = trigger
    separator = "&" if "?" in path else "?"
    target = (
        url(path.split("?")[0], **dict(p.split("=", 1) for p in path.split("?")[1].split("&")))
        if "?" in path
        else path
    )
    target = f"{target}{separator if '?' not in target else '&'}$format=json"
    if body == "DUPLICATE":
        record = {
            "Period": "2024-01-01T00:00:00",
            "ВидЦен_Key": WHOLESALE,
            "Номенклатура_Key": BOLT,
            "Цена": 1,
        }
        response = onec.post(target, json=record)
    elif body == "BROKEN":
        response = onec.patch(target, content=b"{not json", headers={"Content-Type": "application/json"})
    elif body == "MARKED":
        onec.patch(
            url(f"Document_ЗаказПокупателя(guid'{ORDER}')", **{"$format": "json"}),
            json={"DeletionMark": True},
        )
        response = onec.post(target)
    else:
        response = onec.request(method, target, json=body)
    status, code = odata_error(response)
    if entry["http"] is not None:
        assert status == entry["http"]
    if entry["code"] is not None:
        assert code == entry["code"]
    if entry["echoes_input"] is True and "<" in entry["message_pattern"]:
        echoed = {"Edm.Guid": "не-guid", "Сегмент пути": "НетТакогоПоля"}
        needle = next((v for k, v in echoed.items() if k in entry["message_pattern"]), None)
        if needle:
            assert needle in response.json()["odata.error"]["message"]["value"]


# ------------------------------------------------------------------ request forms


def _request_forms(onec: httpx.Client) -> dict[str, Any]:
    def created_item() -> dict[str, Any]:
        response = onec.post(
            url("Catalog_Номенклатура", **{"$format": "json"}), json={"Description": "P8 элемент"}
        )
        assert response.status_code == 201
        created: dict[str, Any] = response.json()
        return created

    def check_create() -> None:
        response = onec.post(
            url("Catalog_Номенклатура", **{"$format": "json"}), json={"Description": "маркер элемент"}
        )
        assert response.status_code == 201
        body = response.json()
        assert body["Code"]
        assert body["DataVersion"] == "AAAAAAAAAAA="
        assert response.headers["location"].endswith(f"Catalog_Номенклатура(guid'{body['Ref_Key']}')")

    def check_patch_partial() -> None:
        item = created_item()
        response = onec.patch(
            url(f"Catalog_Номенклатура(guid'{item['Ref_Key']}')", **{"$format": "json"}),
            json={"Description": "новое"},
        )
        assert response.status_code == 200
        changed = {k for k in item if response.json().get(k) != item[k]}
        assert changed == {"Description", "DataVersion", "ДатаИзменения"} - (
            set() if item["ДатаИзменения"] != response.json()["ДатаИзменения"] else {"ДатаИзменения"}
        )

    def check_patch_tabular() -> None:
        item = created_item()
        prop = ref("ChartOfCharacteristicTypes_ДополнительныеРеквизитыИСведения", "ID сделки Битрикс24")
        rows = [{"LineNumber": 1, "Свойство_Key": prop, "Значение": "1", "Значение_Type": "Edm.String"}]
        response = onec.patch(
            url(f"Catalog_Номенклатура(guid'{item['Ref_Key']}')", **{"$format": "json"}),
            json={"ДополнительныеРеквизиты": rows},
        )
        assert response.status_code == 200
        assert len(response.json()["ДополнительныеРеквизиты"]) == 1

    def check_mark_deletion() -> None:
        item = created_item()
        response = onec.patch(
            url(f"Catalog_Номенклатура(guid'{item['Ref_Key']}')", **{"$format": "json"}),
            json={"DeletionMark": True},
        )
        assert response.status_code == 200
        assert response.json()["DeletionMark"] is True

    def check_post_document() -> None:
        response = onec.post(f"Document_ЗаказПокупателя(guid'{ORDER}')/Post?PostingModeOperational=false")
        assert response.status_code == 200
        assert get_json(onec, f"Document_ЗаказПокупателя(guid'{ORDER}')")["Posted"] is True

    def check_cash_receipt() -> None:
        body = {
            "Date": "2024-03-02T12:00:00",
            "ВидОперации": "ОтПокупателя",
            "Контрагент_Key": BUYER,
            "СуммаДокумента": 1250,
            "Организация_Key": ref("Catalog_Организации", 'ООО "Металл-Сервис"'),
            "ВалютаДенежныхСредств_Key": ref("Catalog_Валюты", "руб."),
            "Курс": 1,
            "Кратность": "1",
            "РасшифровкаПлатежа": [
                {
                    "LineNumber": 1,
                    "Договор_Key": EMPTY_GUID,
                    "СуммаРасчетов": 1250,
                    "СуммаПлатежа": 1250,
                    "Документ": "",
                    "Документ_Type": "StandardODATA.Undefined",
                    "СтавкаНДС_Key": EMPTY_GUID,
                    "Заказ": ORDER,
                    "Заказ_Type": "StandardODATA.Document_ЗаказПокупателя",
                }
            ],
        }
        response = onec.post(url("Document_ПоступлениеВКассу", **{"$format": "json"}), json=body)
        assert response.status_code == 201

    def check_register_forms() -> None:
        record = {
            "Period": "2025-01-01T00:00:00",
            "ВидЦен_Key": WHOLESALE,
            "Номенклатура_Key": BOLT,
            "Цена": 13,
        }
        created = onec.post(url("InformationRegister_ЦеныНоменклатуры", **{"$format": "json"}), json=record)
        assert created.status_code == 200
        key = (
            f"InformationRegister_ЦеныНоменклатуры(Period=datetime'2025-01-01T00:00:00',ВидЦен_Key=guid'{WHOLESALE}',"
            f"Номенклатура_Key=guid'{BOLT}',Характеристика_Key=guid'{EMPTY_GUID}')"
        )
        assert onec.get(url(key, **{"$format": "json"})).json()["Цена"] == 13
        assert (
            onec.post(
                url("InformationRegister_ЦеныНоменклатуры", **{"$format": "json"}), json=record
            ).status_code
            == 400
        )
        assert onec.delete(url(key, **{"$format": "json"})).status_code == 204
        assert odata_error(onec.get(url(key, **{"$format": "json"}))) == (404, "9")

    return {
        "service-document": lambda: get_json(onec, ""),
        "get-by-key-json": lambda: get_json(onec, f"Catalog_Контрагенты(guid'{BUYER}')"),
        "filter-substringof": lambda: _assert_nonempty(
            get_json(onec, "Catalog_Номенклатура", **{"$filter": "substringof('Болт М10', Description)"})
        ),
        "filter-ref-by-guid": lambda: _assert_nonempty(
            get_json(
                onec,
                "Catalog_Номенклатура",
                **{"$filter": f"ЕдиницаИзмерения eq guid'{PIECE}'"},
            )
        ),
        "filter-owner-key": lambda: _assert_nonempty(
            get_json(onec, "Catalog_ДоговорыКонтрагентов", **{"$filter": f"Owner_Key eq guid'{BUYER}'"})
        ),
        "filter-cast-composite": lambda: _assert_nonempty(
            get_json(
                onec,
                "Document_ЗаказПокупателя",
                **{
                    "$filter": "СостояниеЗаказа eq cast(guid'"
                    f"{ref('Catalog_СостоянияЗаказовПокупателей', 'В работе')}', "
                    "'Catalog_СостоянияЗаказовПокупателей') and Number eq '00000000001'"
                },
            )
        ),
        "filter-tabular-any": lambda: _assert_nonempty(
            get_json(onec, "Document_ЗаказПокупателя", **{"$filter": "Запасы/any(d: d/Цена gt 10)"})
        ),
        "inlinecount": lambda: _assert_count_string(
            get_json(onec, "Catalog_Номенклатура", **{"$inlinecount": "allpages"})
        ),
        "expand-needs-select": lambda: _assert_expanded(
            get_json(
                onec,
                "Document_ЗаказПокупателя",
                **{"$select": "Контрагент/Description", "$expand": "Контрагент"},
            )
        ),
        "balance": lambda: _assert_nonempty(
            get_json(
                onec, "AccumulationRegister_ЗапасыНаСкладах/Balance(Period=datetime'2030-01-01T00:00:00')"
            )
        ),
        "balance-unf-stock": lambda: _assert_balance_fields(
            onec.get(
                url(
                    "AccumulationRegister_ЗапасыНаСкладах/Balance(Period=datetime'2025-12-31T23:59:59')",
                    **{"$format": "json"},
                ),
                headers={"Accept": "application/json;odata=nometadata"},
            ).json()
        ),
        "balance-dimensions": lambda: _assert_nonempty(
            get_json(
                onec,
                "AccumulationRegister_ЗапасыНаСкладах/Balance(Dimensions='Номенклатура,СтруктурнаяЕдиница')",
                **{
                    "$filter": f"СтруктурнаяЕдиница_Key eq guid'{MAIN_STORE}'",
                    "$select": "КоличествоBalance,Номенклатура_Key",
                },
            )
        ),
        "slicelast-condition": lambda: _assert_nonempty(
            get_json(
                onec,
                "InformationRegister_ЦеныНоменклатуры/SliceLast(Period=datetime'2030-01-01T00:00:00',"
                f"Condition='ВидЦен_Key eq guid''{WHOLESALE}'' and (Номенклатура_Key eq guid''{BOLT}'' or "
                f"Номенклатура_Key eq guid''{EMPTY_GUID}'')')",
            )
        ),
        "slicelast-filter": lambda: _assert_nonempty(
            get_json(
                onec,
                "InformationRegister_ЦеныНоменклатуры/SliceLast(Period=datetime'2030-01-01T00:00:00')",
                **{
                    "$filter": f"ВидЦен_Key eq guid'{WHOLESALE}'",
                    "$select": "Period,ВидЦен_Key,Номенклатура_Key,Цена",
                },
            )
        ),
        "create": check_create,
        "create-unf-cash-receipt": check_cash_receipt,
        "patch-partial": check_patch_partial,
        "patch-tabular": check_patch_tabular,
        "mark-deletion": check_mark_deletion,
        "post-document": check_post_document,
        "register-create": check_register_forms,
        "register-get-by-key": check_register_forms,
        "register-delete": check_register_forms,
        "register-missing-key": lambda: _assert_missing_register_key(onec),
        "ref-gt-compare": lambda: _assert_ref_gt(onec),
    }


def _assert_nonempty(body: dict[str, Any]) -> None:
    assert body["value"], body


def _assert_count_string(body: dict[str, Any]) -> None:
    assert isinstance(body["odata.count"], str)
    assert int(body["odata.count"]) >= len(body["value"])


def _assert_expanded(body: dict[str, Any]) -> None:
    assert body["value"][0]["Контрагент"] == {"Description": "Альфа-Строй ООО"}


def _assert_balance_fields(body: dict[str, Any]) -> None:
    row = body["value"][0]
    assert {"СтруктурнаяЕдиница_Key", "Номенклатура_Key", "КоличествоBalance"} <= set(row)


def _assert_missing_register_key(onec: httpx.Client) -> None:
    missing = (
        f"InformationRegister_ЦеныНоменклатуры(Period=datetime'2001-01-01T00:00:00',ВидЦен_Key=guid'{WHOLESALE}',"
        f"Номенклатура_Key=guid'{BOLT}',Характеристика_Key=guid'{EMPTY_GUID}')"
    )
    assert odata_error(onec.get(url(missing, **{"$format": "json"}))) == (404, "9")


def _assert_ref_gt(onec: httpx.Client) -> None:
    response = onec.get(
        url(
            "Catalog_Контрагенты",
            **{"$format": "json", "$orderby": "Ref_Key", "$filter": f"Ref_Key gt guid'{BUYER}'"},
        )
    )
    assert response.status_code == 500
    assert "Неверные параметры в операции сравнения" in response.json()["odata.error"]["message"]["value"]


# Forms the emulator does not implement (see docs/sandbox-onec.md): Atom and exchange plans.
NOT_IMPLEMENTED_REQUESTS = {
    "get-by-key-atom",
    "exchange-node-state",
    "select-changes",
    "notify-changes-received",
}


IMPLEMENTED_REQUESTS = [
    e for e in fixture("requests.examples.json") if e["id"] not in NOT_IMPLEMENTED_REQUESTS
]


@pytest.mark.parametrize("example", IMPLEMENTED_REQUESTS, ids=lambda e: e["id"])
def test_request_example(onec: httpx.Client, example: dict[str, Any]) -> None:
    _request_forms(onec)[example["id"]]()


def test_every_request_example_is_replayed_or_documented_as_not_emulated() -> None:
    ids = {e["id"] for e in fixture("requests.examples.json")}
    assert ids >= NOT_IMPLEMENTED_REQUESTS
    docs = (Path(__file__).resolve().parents[2] / "docs" / "sandbox-onec.md").read_text("utf-8")
    for example_id in NOT_IMPLEMENTED_REQUESTS:
        assert example_id in docs


def test_unimplemented_request_forms_answer_like_unpublished_objects(onec: httpx.Client) -> None:
    assert onec.get(url("ExchangePlan_ОбменССайтом", **{"$format": "json"})).status_code == 404
    atom = onec.get(f"Catalog_Контрагенты(guid'{BUYER}')?$format=atom")
    assert atom.status_code == 400
    assert "<m:error" in atom.text
