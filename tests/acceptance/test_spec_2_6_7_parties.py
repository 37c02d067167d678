"""§2.6.7: counterparties of type "Покупатель" and "Поставщик" and contact persons are exchanged
between 1C and Bitrix24 — on the full local stack (real template, real handlers, both emulators)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge.catalog.setup import setup as catalog_setup
from bridge.parties.setup import setup as parties_setup
from bridge.setup import run_steps
from sandbox.local import LocalStack
from sandbox.world.deals import stack_ports
from tests.harness.parties_stack import FUNCTION, Systems, start

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def systems(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Systems]:
    stack: LocalStack = start(Path(tmp_path_factory.mktemp("parties")), moto_endpoint)
    try:
        world = Systems(stack)
        # Setup runs before the flows (a Lambda never sets itself up): the steps of the flows
        # whose first runs below used to set themselves up.
        setup = [("catalog", catalog_setup), ("parties", parties_setup)]
        report = run_steps(setup, stack_ports(stack), dry_run=False)
        assert report.ok, report.lines()
        world.invoke(FUNCTION)  # first run: the seeded directories
        world.settle()
        world.run_every_schedule()  # other flows' first runs before anything is measured
        yield world
    finally:
        stack.stop()


def _ref(systems: Systems, entity_set: str, description: str) -> str:
    rows = systems.onec("GET", entity_set, **{"$filter": f"Description eq '{description}'"})
    return str(rows[0]["Ref_Key"])


def _info(systems: Systems, kind: str, kind_type: str, text: str, **extra: str) -> dict[str, Any]:
    return {
        "Тип": kind_type,
        "Вид_Key": _ref(systems, "Catalog_ВидыКонтактнойИнформации", kind),
        "Представление": text,
        **extra,
    }


def assert_quiet(systems: Systems) -> None:
    """Two more runs of every schedule and every resulting event write nothing anywhere."""
    systems.settle()
    marks = systems.marks()
    systems.run_every_schedule()
    systems.run_every_schedule()
    assert systems.writes_since(marks) == ([], [])


def test_1c_buyer_supplier_and_private_person_arrive_in_bitrix24(systems: Systems) -> None:
    okopf = _ref(systems, "ChartOfCharacteristicTypes_ДополнительныеРеквизитыИСведения", "ОКОПФ")
    rows = [
        _info(
            systems,
            "Юридический адрес",
            "Адрес",
            "119019, Москва г, Арбат ул, дом 1",
            Регион="Москва г",
            Город="Москва",
            Страна="РОССИЯ",
        ),
        _info(systems, "Фактический адрес", "Адрес", "119019, Москва г, Арбат ул, дом 2", Регион="Москва г"),
        _info(systems, "Почтовый адрес", "Адрес", "119019, Москва г, а/я 10", Регион="Москва г"),
        _info(systems, "Телефон", "Телефон", "+7 495 700-00-01", НомерТелефона="+74957000001"),
    ]
    systems.onec(
        "POST",
        "Catalog_Контрагенты",
        {
            "Description": "Омега ООО",
            "НаименованиеПолное": 'Общество с ограниченной ответственностью "Омега"',
            "ВидКонтрагента": "ЮридическоеЛицо",
            "ИНН": "7701000001",
            "КПП": "770101001",
            "КодПоОКПО": "11112222",
            "Покупатель": True,
            "Комментарий": "Ключевой клиент",
            # A sandbox manager: Bitrix24 user 4 has the same e-mail.
            "Ответственный_Key": _ref(systems, "Catalog_Сотрудники", "Соколова Ольга Викторовна"),
            "КонтактнаяИнформация": [{"LineNumber": i, **r} for i, r in enumerate(rows, 1)],
            "ДополнительныеРеквизиты": [
                {"LineNumber": 1, "Свойство_Key": okopf, "Значение": "ООО", "Значение_Type": "Edm.String"}
            ],
        },
    )
    systems.onec(
        "POST",
        "Catalog_Контрагенты",
        {
            "Description": "Металлобаза АО",
            "ВидКонтрагента": "ЮридическоеЛицо",
            "ИНН": "7701000002",
            "Поставщик": True,
        },
    )
    systems.onec(
        "POST",
        "Catalog_Контрагенты",
        {"Description": "Васильев Иван Петрович", "ВидКонтрагента": "ФизическоеЛицо", "Покупатель": True},
    )

    systems.invoke(FUNCTION)  # one run
    systems.settle()

    companies = {c["TITLE"]: c for c in systems.b24("crm.company.list", {"select": ["*", "UF_*", "PHONE"]})}
    buyer, supplier = companies["Омега ООО"], companies["Металлобаза АО"]
    assert buyer["COMPANY_TYPE"] == "CUSTOMER"
    assert supplier["COMPANY_TYPE"] == "SUPPLIER"
    assert buyer["COMMENTS"] == "Ключевой клиент"
    assert buyer["ASSIGNED_BY_ID"] == "4"
    assert [p["VALUE"] for p in buyer["PHONE"]] == ["+7 495 700-00-01"]
    [field] = systems.b24("crm.company.userfield.list", {"filter": {"FIELD_NAME": "UF_CRM_1C_OKOPF"}})
    assert {str(i["ID"]): i["VALUE"] for i in field["LIST"]}[str(buyer["UF_CRM_1C_OKOPF"])] == "ООО"
    [requisite] = systems.b24(
        "crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": buyer["ID"]}}
    )
    assert (requisite["PRESET_ID"], requisite["RQ_INN"], requisite["RQ_KPP"], requisite["RQ_OKPO"]) == (
        "1",
        "7701000001",
        "770101001",
        "11112222",
    )
    # The 1C parts arrive in their own Bitrix24 address fields, the rest of the line in ADDRESS_1.
    addresses = {
        a["TYPE_ID"]: (a["POSTAL_CODE"], a["PROVINCE"], a["CITY"], a["ADDRESS_1"], a["COUNTRY"])
        for a in systems.b24("crm.address.list", {"filter": {"ENTITY_ID": requisite["ID"]}})
    }
    assert addresses == {
        "6": ("119019", "Москва г", "Москва", "Арбат ул, дом 1", "РОССИЯ"),
        "1": ("119019", "Москва г", None, "Арбат ул, дом 2", None),
        "8": ("119019", "Москва г", None, "а/я 10", None),
    }
    assert "Васильев Иван Петрович" not in companies  # a private person never becomes a company
    contacts = systems.b24("crm.contact.list", {"filter": {"LAST_NAME": "Васильев"}})
    assert [(c["NAME"], c["SECOND_NAME"], c["COMPANY_ID"]) for c in contacts] == [("Иван", "Петрович", None)]
    assert_quiet(systems)


def test_bitrix24_company_and_contact_arrive_in_the_1c_folder(systems: Systems) -> None:
    company = systems.b24(
        "crm.company.add",
        {
            "fields": {
                "TITLE": "Сигма-Снаб",
                "COMPANY_TYPE": "CUSTOMER",
                "ASSIGNED_BY_ID": 3,
                "PHONE": [{"VALUE": "+7 343 200-00-00", "VALUE_TYPE": "WORK"}],
            }
        },
    )
    systems.b24(
        "crm.requisite.add",
        {
            "fields": {
                "ENTITY_TYPE_ID": 4,
                "ENTITY_ID": company,
                "PRESET_ID": 1,
                "NAME": "Сигма",
                "RQ_INN": "6601000003",
                "RQ_KPP": "660101001",
            }
        },
    )
    systems.b24(
        "crm.contact.add",
        {"fields": {"NAME": "Ольга", "LAST_NAME": "Кравцова", "POST": "Снабженец", "COMPANY_ID": company}},
    )
    systems.settle()

    [row] = systems.onec("GET", "Catalog_Контрагенты", **{"$filter": "ИНН eq '6601000003'"})
    folder = _ref(systems, "Catalog_Контрагенты", "Битрикс24")
    assert (row["Description"], row["Parent_Key"], row["КПП"], row["Покупатель"]) == (
        "Сигма-Снаб",
        folder,
        "660101001",
        True,
    )
    assert [r["Представление"] for r in row["КонтактнаяИнформация"]] == ["+7 343 200-00-00"]
    assert row["Ответственный_Key"] == _ref(systems, "Catalog_Сотрудники", "Кузнецов Сергей Андреевич")
    [person] = systems.onec("GET", "Catalog_КонтактныеЛица", **{"$filter": "Description eq 'Кравцова Ольга'"})
    assert (person["Owner_Key"], person["Должность"]) == (row["Ref_Key"], "Снабженец")
    assert_quiet(systems)


def test_editing_only_a_requisite_reaches_1c_and_then_all_is_quiet(systems: Systems) -> None:
    [company] = systems.b24("crm.company.list", {"filter": {"TITLE": "Омега ООО"}})
    [requisite] = systems.b24(
        "crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company["ID"]}}
    )
    systems.b24("crm.requisite.update", {"id": requisite["ID"], "fields": {"RQ_OKPO": "33334444"}})
    systems.settle()
    [row] = systems.onec("GET", "Catalog_Контрагенты", **{"$filter": "ИНН eq '7701000001'"})
    assert row["КодПоОКПО"] == "33334444"
    assert_quiet(systems)


def test_editing_only_an_address_in_bitrix24_reaches_1c_within_one_run(systems: Systems) -> None:
    [company] = systems.b24("crm.company.list", {"filter": {"TITLE": "Омега ООО"}})
    [requisite] = systems.b24(
        "crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company["ID"]}}
    )
    fields = {"TYPE_ID": 1, "ENTITY_TYPE_ID": 8, "ENTITY_ID": int(requisite["ID"])}
    systems.b24(
        "crm.address.update",
        {"fields": {**fields, "ADDRESS_1": "Тверская ул, дом 7", "CITY": "Москва", "POSTAL_CODE": "125009"}},
    )
    systems.settle()

    systems.invoke(FUNCTION)  # one scheduled run, no event
    systems.settle()

    [row] = systems.onec("GET", "Catalog_Контрагенты", **{"$filter": "ИНН eq '7701000001'"})
    actual = _ref(systems, "Catalog_ВидыКонтактнойИнформации", "Фактический адрес")
    [line] = [r for r in row["КонтактнаяИнформация"] if r["Вид_Key"] == actual]
    assert line["Представление"] == "125009, Москва г, Москва, Тверская ул, дом 7"
    assert (line["Регион"], line["Город"]) == ("Москва г", "Москва")
    assert_quiet(systems)
