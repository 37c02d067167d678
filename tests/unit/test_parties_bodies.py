"""Bodies of the 1C counterparty and contact person made for a new buyer (mappings.md §3–4)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bridge.deals.buyer import (
    CounterpartyCandidate,
    buyer_party,
    contact_person_body,
    counterparty_body,
    main_contact_patch,
)
from bridge.deals.config import OneCRefs
from bridge.deals.snapshot import parse_deal_snapshot
from bridge.domain.counterparty import CounterpartyKind
from bridge.domain.phones import PhoneKindRefs

FIXTURES = Path(__file__).parents[1] / "fixtures"
FOLDER = "f0000001-0000-11ef-9c3a-00155d0a1b01"
MANAGER = "e0000001-0000-11ef-9c3a-00155d0a1b01"
OWNER = "c0000001-0000-11ef-9c3a-00155d0a1b01"
PHONE_KIND = "b0000001-0000-11ef-9c3a-00155d0a1b01"
EMAIL_KIND = "b0000002-0000-11ef-9c3a-00155d0a1b01"
WORK_PHONE_KIND = "b0000003-0000-11ef-9c3a-00155d0a1b01"
MOBILE_KIND = "b0000004-0000-11ef-9c3a-00155d0a1b01"
CONTACT_EMAIL_KIND = "b0000005-0000-11ef-9c3a-00155d0a1b01"
REFS = OneCRefs(
    organization="0c1f5a6e-2d3b-11ef-9c3a-00155d0a1b01",
    initial_state="1a2b3c4d-0000-11ef-9c3a-00155d0a1b01",
    completed_state="1a2b3c4d-0001-11ef-9c3a-00155d0a1b01",
    cancelled_state="1a2b3c4d-0002-11ef-9c3a-00155d0a1b01",
    counterparty_folder=FOLDER,
    counterparty_email_kind=EMAIL_KIND,
    contact_email_kind=CONTACT_EMAIL_KIND,
    phone_kinds=PhoneKindRefs(
        counterparty={"WORK": PHONE_KIND}, person={"WORK": WORK_PHONE_KIND, "MOBILE": MOBILE_KIND}
    ),
)


@cache
def _read(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def load(name: str) -> Any:
    """A fresh copy of a fixture each call, so tests may edit it."""
    return json.loads(_read(name))


def test_new_company_counterparty_body() -> None:
    buyer = buyer_party(parse_deal_snapshot(load("deals/batch.result.ru.json"), []))
    assert buyer is not None
    assert counterparty_body(buyer, MANAGER, REFS) == {
        "Description": 'ООО "Стройресурс"',
        "НаименованиеПолное": 'ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ "СТРОЙРЕСУРС"',
        "ВидКонтрагента": "ЮридическоеЛицо",
        "Покупатель": True,
        "ИНН": "7701234567",
        "КПП": "770101001",
        "КодПоОКПО": "12345678",
        "Parent_Key": FOLDER,
        "Ответственный_Key": MANAGER,
        "Комментарий": "Работают по предоплате",
        "КонтактнаяИнформация": [
            {
                "LineNumber": 1,
                "Тип": "Телефон",
                "Вид_Key": PHONE_KIND,
                "Представление": "+7 (495) 123-45-67",  # the WORK phone, not the first one
                "НомерТелефона": "+7 (495) 123-45-67",
            },
            {
                "LineNumber": 2,
                "Тип": "АдресЭлектроннойПочты",
                "Вид_Key": EMAIL_KIND,
                "Представление": "zakaz@stroyresurs.ru",
                "АдресЭП": "zakaz@stroyresurs.ru",
            },
        ],
    }


def test_empty_fields_are_not_transferred() -> None:
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    results["company"].update({"COMMENTS": "", "PHONE": [], "EMAIL": None})
    results["company_requisites"] = []
    buyer = buyer_party(parse_deal_snapshot(results, []))
    assert buyer is not None
    bare = OneCRefs.model_validate(REFS.model_dump() | {"counterparty_folder": None})
    body = counterparty_body(buyer, None, bare)
    assert body == {
        "Description": 'ООО "Стройресурс"',
        "НаименованиеПолное": 'ООО "Стройресурс"',
        "ВидКонтрагента": "ЮридическоеЛицо",
        "Покупатель": True,
    }


def test_contact_person_body() -> None:
    snapshot = parse_deal_snapshot(load("deals/batch.result.ru.json"), [])
    assert snapshot.contact is not None
    assert contact_person_body(snapshot.contact, OWNER, REFS) == {
        "Description": "Иванов Пётр Сергеевич",
        "Owner_Key": OWNER,
        "Должность": "Начальник отдела снабжения",
        "КонтактнаяИнформация": [
            {
                "LineNumber": 1,
                "Тип": "Телефон",
                "Вид_Key": WORK_PHONE_KIND,
                "Представление": "+7 (495) 123-45-68",
                "НомерТелефона": "+7 (495) 123-45-68",
            },
            {
                "LineNumber": 2,
                "Тип": "Телефон",
                "Вид_Key": MOBILE_KIND,
                "Представление": "+7 (903) 111-22-33",
                "НомерТелефона": "+7 (903) 111-22-33",
            },
            {
                "LineNumber": 3,
                "Тип": "АдресЭлектроннойПочты",
                "Вид_Key": CONTACT_EMAIL_KIND,
                "Представление": "p.ivanov@stroyresurs.ru",
                "АдресЭП": "p.ivanov@stroyresurs.ru",
            },
        ],
    }


def test_documented_contact_comment_is_stripped_of_bb_codes() -> None:
    snapshot = parse_deal_snapshot(
        {
            "deal": {"ID": "1", "CONTACT_ID": "43"},
            "contact": load("b24/crm.contact.get.response.json")["result"],
        },
        [],
    )
    assert snapshot.contact is not None
    comment = contact_person_body(snapshot.contact, OWNER, REFS)["Комментарий"]
    assert "[" not in comment
    assert "- List item #1" in comment
    assert "Bold text" in comment


def test_main_contact_is_set_only_when_empty() -> None:
    empty = CounterpartyCandidate.model_validate(
        {"Ref_Key": OWNER, "КонтактноеЛицо_Key": "00000000-0000-0000-0000-000000000000"}
    )
    taken = CounterpartyCandidate.model_validate({"Ref_Key": OWNER, "КонтактноеЛицо_Key": MANAGER})
    assert main_contact_patch(empty, "d0000001-0000-11ef-9c3a-00155d0a1b01") == {
        "КонтактноеЛицо_Key": "d0000001-0000-11ef-9c3a-00155d0a1b01"
    }
    assert main_contact_patch(taken, "d0000001-0000-11ef-9c3a-00155d0a1b01") == {}


_multifield = st.lists(
    st.fixed_dictionaries(
        {"VALUE": st.text(max_size=15), "VALUE_TYPE": st.sampled_from(["WORK", "MOBILE", "HOME", "OTHER"])}
    ),
    max_size=4,
)


@given(
    with_company=st.booleans(),
    preset=st.sampled_from([None, "1", "2", "3", "4", "99"]),
    contact_preset=st.sampled_from([None, "1", "2", "3"]),
    title=st.text(max_size=30),
    phones=_multifield,
    emails=_multifield,
)
def test_private_person_never_becomes_a_legal_entity(
    with_company: bool,
    preset: str | None,
    contact_preset: str | None,
    title: str,
    phones: list[dict[str, str]],
    emails: list[dict[str, str]],
) -> None:
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    results["company"].update({"TITLE": title, "PHONE": phones, "EMAIL": emails})
    results["contact"].update({"PHONE": phones, "EMAIL": emails})
    results["company_requisites"][0]["PRESET_ID"] = preset
    if contact_preset:
        results["contact_requisites"] = [
            {
                "ID": "8",
                "ENTITY_TYPE_ID": "3",
                "ENTITY_ID": "310",
                "PRESET_ID": contact_preset,
                "RQ_INN": "500100732259",
            }
        ]
    if not with_company:
        results["deal"]["COMPANY_ID"] = None
    buyer = buyer_party(parse_deal_snapshot(results, []))
    assert buyer is not None
    body = counterparty_body(buyer, None, REFS)
    private = not with_company or preset == "3"
    if private:
        assert body["ВидКонтрагента"] == CounterpartyKind.PRIVATE_PERSON
        assert "КПП" not in body
    assert body["Description"].strip()  # 1C requires a name
    rows = body.get("КонтактнаяИнформация", [])
    assert [r["LineNumber"] for r in rows] == list(range(1, len(rows) + 1))
