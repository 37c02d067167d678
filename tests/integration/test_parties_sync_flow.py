"""The parties flow in-process against both emulators and a moto SyncTable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bridge.domain import directory
from bridge.domain.onec_sets import EMPLOYEES, PERSONS
from tests.harness.parties_world import World, start_world


@pytest.fixture
def world(sync_table: str, dynamodb: Any) -> Iterator[World]:
    yield from start_world(sync_table, dynamodb)


def test_first_run_brings_seeded_1c_parties_to_bitrix24(world: World) -> None:
    report = world.run()
    assert not report.failures, report.failures
    companies = {c["TITLE"]: c for c in world.b24("crm.company.list", {"select": ["*", "PHONE"]})}
    assert {"Альфа-Строй ООО", "СтальПоставка АО", "ИП Кузнецов Дмитрий Олегович"} <= set(companies)
    contacts = world.b24("crm.contact.list", {"select": ["*"]})
    names = {(c["LAST_NAME"], c["NAME"], c["SECOND_NAME"]): c for c in contacts}
    assert ("Смирнов", "Алексей", "Викторович") in names
    assert ("Орлова", "Елена", "Павловна") in names
    assert names[("Орлова", "Елена", "Павловна")]["COMPANY_ID"] == companies["Альфа-Строй ООО"]["ID"]
    assert "Смирнов Алексей Викторович" not in companies


def test_second_and_third_runs_write_nothing(world: World) -> None:
    world.run()
    b24_seq, onec_seq = world.b24_seq(), world.onec_seq()
    for _ in range(2):
        report = world.run()
        assert not report.failures, report.failures
    assert world.b24_writes(b24_seq) == []
    assert world.onec_writes(onec_seq) == []


def _folder(world: World) -> str:
    return str(world.onec_list("Catalog_Контрагенты", Description="Битрикс24")[0]["Ref_Key"])


def test_bitrix24_company_and_contact_become_a_counterparty_in_the_folder_with_its_contact_person(
    world: World,
) -> None:
    world.run()
    company = world.b24(
        "crm.company.add",
        {
            "fields": {
                "TITLE": "Бета-Трейд",
                "COMPANY_TYPE": "SUPPLIER",
                "PHONE": [{"VALUE": "+7 812 000-11-22", "VALUE_TYPE": "WORK"}],
            }
        },
    )
    requisite = world.b24(
        "crm.requisite.add",
        {
            "fields": {
                "ENTITY_TYPE_ID": 4,
                "ENTITY_ID": company,
                "PRESET_ID": 1,
                "NAME": "Бета",
                "RQ_INN": "7801999999",
                "RQ_KPP": "780101001",
                "RQ_COMPANY_FULL_NAME": "ООО «Бета-Трейд»",
            }
        },
    )
    world.b24(
        "crm.address.add",
        {
            "fields": {
                "TYPE_ID": 6,
                "ENTITY_TYPE_ID": 8,
                "ENTITY_ID": requisite,
                "ADDRESS_1": "Невский пр., 1",
                "CITY": "Санкт-Петербург",
                "POSTAL_CODE": "191186",
            }
        },
    )
    contact = world.b24(
        "crm.contact.add",
        {
            "fields": {
                "NAME": "Пётр",
                "LAST_NAME": "Сидоров",
                "POST": "Директор",
                "COMPANY_ID": company,
                "PHONE": [{"VALUE": "+7 921 111-22-33", "VALUE_TYPE": "MOBILE"}],
            }
        },
    )
    flow = world.flow()
    flow.sync_b24("COMPANY", company)
    flow.sync_b24("CONTACT", contact)

    [counterparty] = world.onec_list("Catalog_Контрагенты", ИНН="7801999999")
    assert counterparty["Parent_Key"] == _folder(world)
    assert counterparty["Description"] == "Бета-Трейд"
    assert counterparty["КПП"] == "780101001"
    assert counterparty["НаименованиеПолное"] == "ООО «Бета-Трейд»"
    assert counterparty["Поставщик"] is True
    assert counterparty["ВидКонтрагента"] == "ЮридическоеЛицо"
    presentations = [r["Представление"] for r in counterparty["КонтактнаяИнформация"]]
    assert "+7 812 000-11-22" in presentations
    assert "191186, Санкт-Петербург, Невский пр., 1" in presentations
    [person] = world.onec_list("Catalog_КонтактныеЛица", Description="Сидоров Пётр")
    assert person["Owner_Key"] == counterparty["Ref_Key"]
    assert person["Должность"] == "Директор"
    assert [r["Представление"] for r in person["КонтактнаяИнформация"]] == ["+7 921 111-22-33"]

    b24_seq, onec_seq = world.b24_seq(), world.onec_seq()
    world.run()
    world.run()
    assert world.b24_writes(b24_seq) == []
    assert world.onec_writes(onec_seq) == []


def test_a_bitrix24_contact_without_company_becomes_a_private_person_never_a_company(world: World) -> None:
    contact = world.b24(
        "crm.contact.add", {"fields": {"NAME": "Анна", "LAST_NAME": "Петрова", "SECOND_NAME": "Игоревна"}}
    )
    world.run()
    [row] = world.onec_list("Catalog_Контрагенты", Description="Петрова Анна Игоревна")
    assert row["ВидКонтрагента"] == "ФизическоеЛицо"
    assert world.ports.store.links.find_by_b24(
        __import__("bridge.store.models", fromlist=["B24Ref"]).B24Ref(entity="CONTACT", id=str(contact))
    )


def test_editing_only_a_requisite_syncs_to_1c(world: World) -> None:
    world.run()
    [alfa] = [c for c in world.b24("crm.company.list", {"filter": {"TITLE": "Альфа-Строй ООО"}})]
    [requisite] = world.b24("crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": alfa["ID"]}})
    world.b24("crm.requisite.update", {"id": requisite["ID"], "fields": {"RQ_OKPO": "99999999"}})
    world.run()
    [row] = world.onec_list("Catalog_Контрагенты", Description="Альфа-Строй ООО")
    assert row["КодПоОКПО"] == "99999999"


def test_a_conflict_resolves_by_the_owner_rule_and_is_audited(world: World) -> None:
    world.run()
    [alfa] = world.b24("crm.company.list", {"filter": {"TITLE": "Альфа-Строй ООО"}})
    [requisite] = world.b24("crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": alfa["ID"]}})
    [row] = world.onec_list("Catalog_Контрагенты", Description="Альфа-Строй ООО")
    # Both sides change the KPP (1C owns it) and the comment (Bitrix24 owns it).
    world.ports.onec.update(
        "Catalog_Контрагенты", row["Ref_Key"], {"КПП": "770501002", "Комментарий": "из 1С"}
    )
    world.b24("crm.requisite.update", {"id": requisite["ID"], "fields": {"RQ_KPP": "770501003"}})
    world.b24("crm.company.update", {"id": alfa["ID"], "fields": {"COMMENTS": "из Битрикс24"}})
    world.run()
    row = world.onec_get("Catalog_Контрагенты", row["Ref_Key"])
    assert row["КПП"] == "770501002"
    assert row["Комментарий"] == "из Битрикс24"
    assert world.b24("crm.requisite.get", {"id": requisite["ID"]})["RQ_KPP"] == "770501002"
    assert world.b24("crm.company.get", {"id": alfa["ID"]})["COMMENTS"] == "из Битрикс24"
    from datetime import UTC, datetime

    conflicts = [a for a in world.ports.store.audit.list(datetime.now(UTC).date()) if a.outcome == "conflict"]
    lost = {a.detail["field"]: a.detail["lost"] for a in conflicts}
    assert lost == {"kpp": "770501003", "comment": "из 1С"}


def test_an_ambiguous_name_match_creates_nothing_and_is_reported(world: World) -> None:
    for _ in range(2):
        world.ports.onec.create(
            "Catalog_Контрагенты", {"Description": "Гамма", "ВидКонтрагента": "ЮридическоеЛицо"}
        )
    company = world.b24("crm.company.add", {"fields": {"TITLE": "Гамма"}})
    before = len(world.onec_list("Catalog_Контрагенты", Description="Гамма"))
    outcome = world.flow().sync_b24("COMPANY", company)
    assert outcome.startswith("ambiguous")
    assert len(world.onec_list("Catalog_Контрагенты", Description="Гамма")) == before
    comments = world.b24(
        "crm.timeline.comment.list", {"filter": {"ENTITY_ID": company, "ENTITY_TYPE": "company"}}
    )
    assert len(comments) == 1
    world.flow().sync_b24("COMPANY", company)
    assert (
        len(
            world.b24(
                "crm.timeline.comment.list", {"filter": {"ENTITY_ID": company, "ENTITY_TYPE": "company"}}
            )
        )
        == 1
    )


def test_deletions_never_cascade_by_default(world: World) -> None:
    from bridge.store.models import OneCRef

    world.run()
    [alfa] = world.b24("crm.company.list", {"filter": {"TITLE": "Альфа-Строй ООО"}})
    world.b24("crm.company.delete", {"id": alfa["ID"]})
    outcome = world.flow().b24_deleted("COMPANY", int(alfa["ID"]))
    assert outcome.startswith("deleted in Bitrix24: unlinked")
    [row] = world.onec_list("Catalog_Контрагенты", Description="Альфа-Строй ООО")
    assert row["DeletionMark"] is False
    assert (
        world.ports.store.links.find_by_onec(OneCRef(entity_set="Catalog_Контрагенты", ref=row["Ref_Key"]))
        is None
    )

    [steel] = world.onec_list("Catalog_Контрагенты", Description="СтальПоставка АО")
    world.ports.onec.update("Catalog_Контрагенты", steel["Ref_Key"], {"DeletionMark": True})
    report = world.run()
    assert report.outcomes[f"1C#Catalog_Контрагенты#{steel['Ref_Key']}"] == "onec_marked_for_deletion"
    assert world.b24("crm.company.list", {"filter": {"TITLE": "СтальПоставка АО"}})


def test_the_directory_the_parties_flow_read_spares_a_cold_container_the_1c_reads(world: World) -> None:
    world.run()  # maps each counterparty's Ответственный, so it reads the employee directory
    kuznetsov = _employee(world, "Кузнецов Сергей Андреевич")
    directory.forget()  # another container: nothing cached in this process
    before = world.onec_seq()

    employees = directory.employees(world.ports.onec, shared=world.ports.store.employee_directory)

    assert kuznetsov in {e.ref for e in employees}
    calls = httpx.get(f"{world.onec_url}/_sandbox/calls", params={"since": before}).json()["calls"]
    assert [c for c in calls if EMPLOYEES in c["path"] or PERSONS in c["path"]] == []


def _employee(world: World, name: str) -> str:
    return str(world.onec_list("Catalog_Сотрудники", Description=name)[0]["Ref_Key"])


def test_the_responsible_manager_travels_both_ways_by_email(world: World) -> None:
    from datetime import UTC, datetime

    # Seeded 1C counterparties are Иванова's; she is Bitrix24 user 2 (same e-mail).
    world.run()
    [alfa] = world.b24("crm.company.list", {"filter": {"TITLE": "Альфа-Строй ООО"}})
    assert alfa["ASSIGNED_BY_ID"] == "2"

    # A Bitrix24 company assigned to Кузнецов (user 3) gets him as Ответственный in 1C.
    company = world.b24(
        "crm.company.add",
        {"fields": {"TITLE": "Гамма-Сервис", "COMPANY_TYPE": "CUSTOMER", "ASSIGNED_BY_ID": 3}},
    )
    world.flow().sync_b24("COMPANY", company)
    [gamma] = world.onec_list("Catalog_Контрагенты", Description="Гамма-Сервис")
    assert gamma["Ответственный_Key"] == _employee(world, "Кузнецов Сергей Андреевич")

    # Reassigned in Bitrix24 → reassigned in 1C; reassigned in 1C → reassigned in Bitrix24.
    world.b24("crm.company.update", {"id": company, "fields": {"ASSIGNED_BY_ID": 4}})
    world.flow().sync_b24("COMPANY", company)
    gamma = world.onec_get("Catalog_Контрагенты", gamma["Ref_Key"])
    assert gamma["Ответственный_Key"] == _employee(world, "Соколова Ольга Викторовна")
    [alfa_row] = world.onec_list("Catalog_Контрагенты", Description="Альфа-Строй ООО")
    world.ports.onec.update(
        "Catalog_Контрагенты",
        alfa_row["Ref_Key"],
        {"Ответственный_Key": _employee(world, "Кузнецов Сергей Андреевич")},
    )
    world.run()
    assert world.b24("crm.company.get", {"id": alfa["ID"]})["ASSIGNED_BY_ID"] == "3"

    # The portal admin is no 1C employee: 1C keeps its manager, the audit says why.
    world.b24("crm.company.update", {"id": company, "fields": {"ASSIGNED_BY_ID": 1, "COMMENTS": "x"}})
    world.flow().sync_b24("COMPANY", company)
    gamma = world.onec_get("Catalog_Контрагенты", gamma["Ref_Key"])
    assert gamma["Ответственный_Key"] == _employee(world, "Соколова Ольга Викторовна")
    assert gamma["Комментарий"] == "x"
    unmatched = [
        a.detail
        for a in world.ports.store.audit.list(datetime.now(UTC).date())
        if a.outcome == "responsible_unmatched"
    ]
    assert {"side": "b24", "user": "1"} in unmatched

    b24_seq, onec_seq = world.b24_seq(), world.onec_seq()
    world.run()
    world.run()
    assert world.b24_writes(b24_seq) == []
    assert world.onec_writes(onec_seq) == []
