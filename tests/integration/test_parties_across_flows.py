"""The deal flow and the parties flow on the same buyer, in-process against both emulators.

Each flow alone is quiet; these tests show what a manager sees after both have touched the same
company and contact: no duplicated phones, no cut titles, addresses in their Bitrix24 fields.
"""

from __future__ import annotations

from typing import Any

import pytest

from bridge.catalog.setup import setup as catalog_setup
from bridge.deals.flow import sync_deal
from bridge.deals.setup import setup as deal_setup
from bridge.domain.records import RecordRef
from bridge.oversight.status import failures
from bridge.parties.poller import run as parties_run
from bridge.parties.resolved import resolved_config
from bridge.parties.setup import setup as parties_setup
from bridge.parties.sync import PartiesFlow, parties_mapping
from bridge.store import B24Ref, OneCRef
from sandbox.world.deals import World
from sandbox.world.rest import B24Rest
from tests.harness.deal_world import orders_for, ports, ready

pytestmark = pytest.mark.integration

PERSONS = "Catalog_КонтактныеЛица"
COUNTERPARTIES = "Catalog_Контрагенты"


@pytest.fixture
def world(running: World) -> World:
    return ready(running, ("deals", deal_setup), ("catalog", catalog_setup), ("parties", parties_setup))


def parties(world: World) -> None:
    p = ports(world)
    if resolved_config(p.store).find() is None:  # setup runs before the flows
        parties_setup(p, dry_run=False)
    report = parties_run(PartiesFlow(p, resolved_config(p.store).load(), parties_mapping(p)))
    assert not report.failures, report.failures


def deal(world: World, rest: B24Rest, company: int, contact: int) -> int:
    return rest.deal("Заказ болтов", rest.stage_id("Продажи", "Продажа материала"), company, contact, [])


def every_flow_twice(world: World, deal_id: int) -> None:
    for _ in range(2):
        sync_deal(deal_id, ports(world))
        parties(world)
        parties(world)


def linked_ref(world: World, entity: str, entity_id: int) -> str:
    link = ports(world).store.links.find_by_b24(B24Ref(entity=entity, id=str(entity_id)))
    assert link is not None
    return link.onec.ref


def kind_name(world: World, ref: str) -> str:
    return str(ports(world).onec.get("Catalog_ВидыКонтактнойИнформации", ref)["Description"])


def phone_rows(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in row.get("КонтактнаяИнформация") or [] if r.get("Тип") == "Телефон"]


def test_a_mobile_only_contact_stays_mobile_only_on_both_sides_after_every_flow_ran_twice(
    world: World,
) -> None:
    rest = B24Rest(world.b24_webhook_url)
    company, contact = rest.company_with_contact("Дельта ООО", "7712300001", "771201001")
    deal_id = deal(world, rest, company, contact)

    every_flow_twice(world, deal_id)

    person = ports(world).onec.get(PERSONS, linked_ref(world, "CONTACT", contact))
    (phone,) = phone_rows(person)
    assert phone["Представление"] == "+7 916 000-00-01"
    assert kind_name(world, phone["Вид_Key"]) == "Мобильный телефон"
    phones = rest.call("crm.contact.get", {"id": contact})["PHONE"]
    assert [(p["VALUE"], p["VALUE_TYPE"]) for p in phones] == [("+7 916 000-00-01", "MOBILE")]
    # The company's own work phone is one row of the counterparty's phone kind, one WORK in Bitrix24.
    counterparty = ports(world).onec.get(COUNTERPARTIES, linked_ref(world, "COMPANY", company))
    (company_phone,) = phone_rows(counterparty)
    assert kind_name(world, company_phone["Вид_Key"]) == "Телефон"
    phones = rest.call("crm.company.get", {"id": company})["PHONE"]
    assert [(p["VALUE"], p["VALUE_TYPE"]) for p in phones] == [("+7 495 111-22-33", "WORK")]


LONG_TITLE = (  # 126 characters; 1C keeps 100 in Description
    "Научно-производственное объединение «Северо-Западные металлоконструкции и строительные "
    "технологии» ООО, г. Санкт-Петербург, ВО"
)
LONG_POST = "Заместитель главного инженера по снабжению и логистике"


def test_a_126_character_title_and_a_long_post_are_never_cut_in_bitrix24(world: World) -> None:
    assert len(LONG_TITLE) == 126
    assert len(LONG_POST) > 50
    rest = B24Rest(world.b24_webhook_url)
    company, contact = rest.company_with_contact(LONG_TITLE, "7712300002", "771201001")
    rest.call("crm.contact.update", {"id": contact, "fields": {"POST": LONG_POST}})
    deal_id = deal(world, rest, company, contact)

    every_flow_twice(world, deal_id)

    assert rest.call("crm.company.get", {"id": company})["TITLE"] == LONG_TITLE
    assert rest.call("crm.contact.get", {"id": contact})["POST"] == LONG_POST
    counterparty = ports(world).onec.get(COUNTERPARTIES, linked_ref(world, "COMPANY", company))
    assert counterparty["Description"] == LONG_TITLE[:100].rstrip()
    person = ports(world).onec.get(PERSONS, linked_ref(world, "CONTACT", contact))
    assert person["Должность"] == LONG_POST[:50].rstrip()


def test_a_long_title_from_the_parties_flow_keeps_its_full_text_in_the_full_name(world: World) -> None:
    rest = B24Rest(world.b24_webhook_url)
    company = int(rest.call("crm.company.add", {"fields": {"TITLE": LONG_TITLE, "COMPANY_TYPE": "CUSTOMER"}}))

    parties(world)
    parties(world)
    before = ports(world).store.links.find_by_b24(B24Ref(entity="COMPANY", id=str(company)))
    parties(world)

    assert rest.call("crm.company.get", {"id": company})["TITLE"] == LONG_TITLE
    counterparty = ports(world).onec.get(COUNTERPARTIES, linked_ref(world, "COMPANY", company))
    assert counterparty["Description"] == LONG_TITLE[:100].rstrip()
    assert counterparty["НаименованиеПолное"] == LONG_TITLE
    after = ports(world).store.links.find_by_b24(B24Ref(entity="COMPANY", id=str(company)))
    assert before is not None
    assert after is not None
    assert before.extra == after.extra


def _kind_ref(world: World, name: str) -> str:
    (row,) = ports(world).onec.list("Catalog_ВидыКонтактнойИнформации", filter=f"Description eq '{name}'")
    return str(row["Ref_Key"])


def test_a_1c_address_with_parts_arrives_in_the_bitrix24_address_fields(world: World) -> None:
    legal = _kind_ref(world, "Юридический адрес")
    created = ports(world).onec.create(
        COUNTERPARTIES,
        {
            "Description": "Адресная ООО",
            "ВидКонтрагента": "ЮридическоеЛицо",
            "ИНН": "7712300003",
            "Покупатель": True,
            "КонтактнаяИнформация": [
                {
                    "LineNumber": 1,
                    "Тип": "Адрес",
                    "Вид_Key": legal,
                    "Представление": "115054, Москва г, Валовая ул, дом 21, офис 5",
                    "Страна": "РОССИЯ",
                    "Регион": "Москва г",
                    "Город": "Москва",
                }
            ],
        },
    )
    parties(world)
    rest = B24Rest(world.b24_webhook_url)
    link = ports(world).store.links.find_by_onec(
        OneCRef(entity_set=COUNTERPARTIES, ref=str(created["Ref_Key"]))
    )
    assert link is not None
    (requisite,) = rest.call(
        "crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": link.b24.id}}
    )
    (address,) = rest.call("crm.address.list", {"filter": {"ENTITY_ID": requisite["ID"]}})
    assert (address["POSTAL_CODE"], address["PROVINCE"], address["CITY"], address["ADDRESS_1"]) == (
        "115054",
        "Москва г",
        "Москва",
        "Валовая ул, дом 21, офис 5",
    )


def test_an_address_only_edit_in_bitrix24_reaches_1c_in_one_sweep(world: World) -> None:
    actual = _kind_ref(world, "Фактический адрес")
    rest = B24Rest(world.b24_webhook_url)
    company = int(
        rest.call("crm.company.add", {"fields": {"TITLE": "Переездная ООО", "COMPANY_TYPE": "CUSTOMER"}})
    )
    requisite = int(
        rest.call(
            "crm.requisite.add",
            {
                "fields": {
                    "ENTITY_TYPE_ID": 4,
                    "ENTITY_ID": company,
                    "PRESET_ID": 1,
                    "NAME": "Р",
                    "RQ_INN": "7712300006",
                }
            },
        )
    )
    parties(world)
    parties(world)

    # Only an address changes: no event, no DATE_MODIFY; one sweep carries it to 1C.
    rest.call(
        "crm.address.add",
        {
            "fields": {
                "TYPE_ID": 1,
                "ENTITY_TYPE_ID": 8,
                "ENTITY_ID": requisite,
                "ADDRESS_1": "Тверская ул, дом 7",
                "CITY": "Москва",
                "POSTAL_CODE": "125009",
            }
        },
    )
    parties(world)

    row = ports(world).onec.get(COUNTERPARTIES, linked_ref(world, "COMPANY", company))
    (line,) = [r for r in row["КонтактнаяИнформация"] if r["Вид_Key"] == actual]
    assert line["Представление"] == "125009, Москва, Тверская ул, дом 7"


def test_a_buyer_and_supplier_counterparty_keeps_both_flags(world: World) -> None:
    created = ports(world).onec.create(
        COUNTERPARTIES,
        {
            "Description": "Двусторонняя ООО",
            "ВидКонтрагента": "ЮридическоеЛицо",
            "ИНН": "7712300004",
            "Покупатель": True,
            "Поставщик": True,
        },
    )
    ref = str(created["Ref_Key"])
    parties(world)
    link = ports(world).store.links.find_by_onec(OneCRef(entity_set=COUNTERPARTIES, ref=ref))
    assert link is not None
    rest = B24Rest(world.b24_webhook_url)
    assert rest.call("crm.company.get", {"id": link.b24.id})["COMPANY_TYPE"] == "CUSTOMER"

    # A manager switches the single Bitrix24 type; the counterparty is still both in 1C.
    rest.call("crm.company.update", {"id": link.b24.id, "fields": {"COMPANY_TYPE": "SUPPLIER"}})
    parties(world)
    parties(world)

    row = ports(world).onec.get(COUNTERPARTIES, ref)
    assert (row["Покупатель"], row["Поставщик"]) == (True, True)
    assert rest.call("crm.company.get", {"id": link.b24.id})["COMPANY_TYPE"] == "SUPPLIER"


def test_a_contact_persons_type_travels_as_its_first_1c_role_both_ways(world: World) -> None:
    rest = B24Rest(world.b24_webhook_url)
    _, contact = rest.company_with_contact("Ролевая ООО", "7712300005", "771201001")
    rest.call("crm.contact.update", {"id": contact, "fields": {"TYPE_ID": "SUPPLIER"}})
    parties(world)

    person_ref = linked_ref(world, "CONTACT", contact)
    person = ports(world).onec.get(PERSONS, person_ref)
    roles = "Catalog_РолиКонтактныхЛиц"
    first = person["Роли"][0]["Роль_Key"]
    assert ports(world).onec.get(roles, first)["Description"] == "Поставщик"

    (partner,) = ports(world).onec.list(roles, filter="Description eq 'Партнёр'")
    ports(world).onec.update(
        PERSONS, person_ref, {"Роли": [{"LineNumber": 1, "Роль_Key": partner["Ref_Key"]}]}
    )
    parties(world)
    parties(world)

    assert rest.call("crm.contact.get", {"id": contact})["TYPE_ID"] == "PARTNER"


def test_a_duplicate_company_whose_counterparty_is_linked_to_the_first_gets_its_order_and_an_audit_item(
    world: World,
) -> None:
    """Two Bitrix24 companies with one ИНН/КПП (a duplicate a manager made): the second deal finds the
    counterparty the first is linked to. The link of a counterparty to a company is the parties
    flow's to decide, so the deal flow leaves it, and says so where the operator looks."""
    rest = B24Rest(world.b24_webhook_url)
    first, first_contact = rest.company_with_contact("Дельта ООО", "7712300009", "771201001")
    sync_deal(deal(world, rest, first, first_contact), ports(world))
    counterparty = linked_ref(world, "COMPANY", first)
    second, second_contact = rest.company_with_contact(
        "Дельта ООО (дубль)", "7712300009", "771201001", contact=("Анна", "Иванова")
    )

    second_deal = deal(world, rest, second, second_contact)
    sync_deal(second_deal, ports(world))

    (order,) = orders_for(world, second_deal)
    assert order["Контрагент_Key"] == counterparty
    assert linked_ref(world, "COMPANY", first) == counterparty
    assert ports(world).store.links.find_by_b24(B24Ref(entity="COMPANY", id=str(second))) is None
    history = ports(world).store.audit.history(RecordRef(kind="company", key=str(second)))
    (conflict,) = [entry for entry in history if entry.outcome == "link_conflict"]
    assert conflict.detail["onec"] == f"{COUNTERPARTIES}#{counterparty}"
    assert conflict in ports(world).store.audit.history(RecordRef(kind="counterparty", key=counterparty))
    # `status` lists it among the day's failures, with the reason.
    (listed,) = [f for f in failures(ports(world).store, conflict.at) if f.outcome == "link_conflict"]
    assert f"B24 COMPANY {second}" in listed.last_reason
