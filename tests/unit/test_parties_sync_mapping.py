"""Both sides map to the same neutral state, so a synced pair fingerprints equal (no echo)."""

from __future__ import annotations

from bridge.config.parties import PartiesMapping
from bridge.domain.counterparty import CounterpartyKind
from bridge.domain.phones import PhoneKindRefs
from bridge.parties.b24_map import (
    B24Party,
    address_fields,
    company_state,
    entity_fields,
    multifield_ops,
    person_state,
)
from bridge.parties.onec_map import counterparty_patch, counterparty_state, person_patch
from bridge.parties.onec_map import person_state as onec_person_state
from bridge.parties.resolved import PartiesResolved
from bridge.parties.state import state_fingerprint

LEGAL = "11111111-1111-1111-1111-111111111111"
PHONE_KIND = "22222222-2222-2222-2222-222222222222"
OKOPF = "33333333-3333-3333-3333-333333333333"
MOBILE = "44444444-4444-4444-4444-444444444444"
OWNER = "55555555-5555-5555-5555-555555555555"
RESOLVED = PartiesResolved(
    preset_ids={
        CounterpartyKind.LEGAL_ENTITY: 1,
        CounterpartyKind.SOLE_PROPRIETOR: 2,
        CounterpartyKind.PRIVATE_PERSON: 3,
    },
    okopf_enum={"7": "ООО"},
    legal_address_kind=LEGAL,
    okopf_property=OKOPF,
    phone_kinds=PhoneKindRefs(counterparty={"WORK": PHONE_KIND}, person={"MOBILE": MOBILE}),
)
CONFIG = PartiesMapping()

ONEC_ROW = {
    "Ref_Key": OWNER,
    "Description": "Омега ООО",
    "НаименованиеПолное": "ООО «Омега»",
    "ВидКонтрагента": "ЮридическоеЛицо",
    "ИНН": "7701000001",
    "КПП": "770101001",
    "КодПоОКПО": "11112222",
    "Покупатель": True,
    "Комментарий": "Ключевой",
    "КонтактнаяИнформация": [
        {
            "LineNumber": "1",
            "Тип": "Адрес",
            "Вид_Key": LEGAL,
            "Представление": "Москва, Арбат 1",
            "Регион": "Москва г",
        },
        {"LineNumber": "2", "Тип": "Телефон", "Вид_Key": PHONE_KIND, "Представление": "+7 495 700-00-01"},
        {"LineNumber": "3", "Тип": "ВебСтраница", "Представление": "omega.example"},
    ],
    "ДополнительныеРеквизиты": [{"LineNumber": "1", "Свойство_Key": OKOPF, "Значение": "ООО"}],
}
B24_COMPANY = B24Party(
    "COMPANY",
    {
        "ID": "5",
        "TITLE": "Омега ООО",
        "COMPANY_TYPE": "CUSTOMER",
        "COMMENTS": "[B]Ключевой[/B]",
        "UF_CRM_1C_OKOPF": "7",
        "PHONE": [{"ID": "9", "VALUE": "+7 495 700-00-01", "VALUE_TYPE": "WORK"}],
    },
    {
        "ID": "3",
        "PRESET_ID": "1",
        "RQ_INN": "7701000001",
        "RQ_KPP": "770101001",
        "RQ_OKPO": "11112222",
        "RQ_COMPANY_FULL_NAME": "ООО «Омега»",
    },
    ({"TYPE_ID": "6", "ADDRESS_1": "Москва, Арбат 1", "PROVINCE": "Москва г"},),
)


def test_a_synced_company_and_counterparty_have_the_same_state() -> None:
    onec = counterparty_state(ONEC_ROW, RESOLVED)
    b24 = company_state(B24_COMPANY, RESOLVED, CONFIG)
    assert onec == b24
    assert state_fingerprint(onec) == state_fingerprint(b24)


def test_a_private_person_has_no_organisation_fields() -> None:
    row = {**ONEC_ROW, "ВидКонтрагента": "ФизическоеЛицо"}
    state = counterparty_state(row, RESOLVED)
    assert (state["kind"], state["kpp"], state["okopf"], state["full_name"]) == ("ФизическоеЛицо", "", "", "")


def test_a_patch_replaces_only_managed_contact_rows_and_keeps_the_rest() -> None:
    body = counterparty_patch({"phones": ("+7 1", "+7 2")}, ONEC_ROW, RESOLVED)
    rows = body["КонтактнаяИнформация"]
    assert [r["LineNumber"] for r in rows] == [1, 2, 3, 4]
    assert [r["Представление"] for r in rows] == ["Москва, Арбат 1", "omega.example", "+7 1", "+7 2"]


def test_supplier_only_clears_the_buyer_flag_so_it_reads_back_as_supplier() -> None:
    body = counterparty_patch({"relation": "supplier"}, ONEC_ROW, RESOLVED)
    assert counterparty_state({**ONEC_ROW, **body}, RESOLVED)["relation"] == "supplier"


def test_a_1c_address_with_parts_lands_in_the_bitrix24_address_fields() -> None:
    row = {
        **ONEC_ROW,
        "КонтактнаяИнформация": [
            {
                "Тип": "Адрес",
                "Вид_Key": LEGAL,
                "Представление": "115054, Москва г, Валовая ул, дом 21, офис 5",
                "Страна": "РОССИЯ",
                "Регион": "Москва г",
                "Город": "Москва",
            }
        ],
    }
    value = counterparty_state(row, RESOLVED)["legal_address"]
    written = address_fields("legal_address", value, 1)
    assert {k: written[k] for k in ("ADDRESS_1", "CITY", "PROVINCE", "POSTAL_CODE", "COUNTRY")} == {
        "ADDRESS_1": "Валовая ул, дом 21, офис 5",
        "CITY": "Москва",
        "PROVINCE": "Москва г",
        "POSTAL_CODE": "115054",
        "COUNTRY": "РОССИЯ",
    }
    # Read back from Bitrix24 it is the same address: nothing to write either way.
    party = B24Party("COMPANY", {"ID": 1}, {"ID": 1}, ({**written, "TYPE_ID": 6},))
    assert company_state(party, RESOLVED, CONFIG)["legal_address"] == value


def test_the_index_comes_from_the_1c_json_or_xml_when_the_presentation_has_none() -> None:
    xml = '<КонтактнаяИнформация><ДопАдрЭл ТипАдрЭл="10100000" Значение="196135"/></КонтактнаяИнформация>'
    for extra in ({"Значение": '{"value": "x", "ZIPcode": "196135"}'}, {"ЗначенияПолей": xml}):
        line = {"Тип": "Адрес", "Вид_Key": LEGAL, "Представление": "Санкт-Петербург г, Типанова ул, дом 18"}
        state = counterparty_state({**ONEC_ROW, "КонтактнаяИнформация": [{**line, **extra}]}, RESOLVED)
        address = state["legal_address"]
        assert isinstance(address, tuple)
        assert (address[0], address[3]) == ("196135", "Санкт-Петербург г, Типанова ул, дом 18")


def test_a_bitrix24_address_typed_in_parts_goes_to_1c_as_one_presentation_with_its_parts() -> None:
    party = B24Party(
        "COMPANY",
        {"ID": 1},
        {"ID": 1},
        ({"TYPE_ID": 6, "ADDRESS_1": "Невский пр, 1", "CITY": "Санкт-Петербург", "POSTAL_CODE": "191186"},),
    )
    value = company_state(party, RESOLVED, CONFIG)["legal_address"]
    body = counterparty_patch({"legal_address": value}, ONEC_ROW, RESOLVED)
    (line,) = [r for r in body["КонтактнаяИнформация"] if r["Тип"] == "Адрес"]
    assert line["Представление"] == "191186, Санкт-Петербург, Невский пр, 1"
    assert line["Город"] == "Санкт-Петербург"
    assert counterparty_state({**ONEC_ROW, **body}, RESOLVED)["legal_address"] == value


def test_multifields_delete_the_missing_by_id_and_append_the_new() -> None:
    ops = multifield_ops([{"ID": "1", "VALUE": "a"}, {"ID": "2", "VALUE": "b"}], ("b", "c"))
    assert ops == [{"ID": "1", "DELETE": "Y"}, {"VALUE": "c", "VALUE_TYPE": "WORK"}]


def test_contact_person_name_parts_join_into_the_single_1c_name_and_split_back() -> None:
    contact = B24Party(
        "CONTACT",
        {
            "ID": 2,
            "LAST_NAME": "Орлова",
            "NAME": "Елена",
            "SECOND_NAME": "Павловна",
            "PHONE": [{"ID": "1", "VALUE": "+7 9", "VALUE_TYPE": "MOBILE"}],
        },
    )
    state = person_state(contact, OWNER)
    body = person_patch({k: v for k, v in state.items() if v}, {}, RESOLVED)
    assert body["Description"] == "Орлова Елена Павловна"
    assert body["Owner_Key"] == OWNER
    assert onec_person_state({**body, "Owner_Key": OWNER}, RESOLVED) == state
    fields = entity_fields("CONTACT", {"name": "Орлова Елена Павловна"}, {}, RESOLVED, CONFIG, person=True)
    assert (fields["LAST_NAME"], fields["NAME"], fields["SECOND_NAME"]) == ("Орлова", "Елена", "Павловна")


def test_a_contact_type_becomes_the_first_role_and_other_1c_roles_stay() -> None:
    client, supplier, boss = (f"{n}{n}{n}{n}{n}{n}{n}{n}-0000-0000-0000-000000000000" for n in "abc")
    resolved = RESOLVED.model_copy(update={"contact_roles": {"CLIENT": client, "SUPPLIER": supplier}})
    row = {"Роли": [{"LineNumber": 1, "Роль_Key": boss}, {"LineNumber": 2, "Роль_Key": client}]}
    assert onec_person_state(row, resolved)["role"] == ""  # «Руководитель» is not in the map
    body = person_patch({"role": "SUPPLIER"}, row, resolved)
    assert body["Роли"] == [{"LineNumber": 1, "Роль_Key": supplier}, {"LineNumber": 2, "Роль_Key": boss}]
    assert onec_person_state(body, resolved)["role"] == "SUPPLIER"
