"""Which 1C counterparty a deal's buyer is, and which manager gets the order (§2.1.1.10, §2.6.1)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bridge.deals.buyer import (
    BuyerParty,
    CounterpartyDecisionKind,
    buyer_party,
    contact_person_for,
    decide_counterparty,
    inn_filter,
    name_filter,
)
from bridge.deals.snapshot import DealSnapshot, parse_deal_snapshot
from bridge.domain.counterparty import EMPTY_GUID, CounterpartyKind
from bridge.domain.responsible import Employee, ResponsibleSource, decide_responsible
from bridge.domain.users import B24User

FIXTURES = Path(__file__).parents[1] / "fixtures"
SMIRNOVA = "e0000001-0000-11ef-9c3a-00155d0a1b01"
PETROV = "e0000002-0000-11ef-9c3a-00155d0a1b01"
DEFAULT = "e0000009-0000-11ef-9c3a-00155d0a1b01"
OWN_MANAGER = "e0000005-0000-11ef-9c3a-00155d0a1b01"


@cache
def _read(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def load(name: str) -> Any:
    """A fresh copy of a fixture each call, so tests may edit it."""
    return json.loads(_read(name))


def ru_snapshot(with_company: bool = True) -> DealSnapshot:
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    if not with_company:
        results["deal"]["COMPANY_ID"] = None
        results["contact"]["COMPANY_ID"] = None
    return parse_deal_snapshot(results, [])


def party() -> BuyerParty:
    found = buyer_party(ru_snapshot())
    assert found is not None
    return found


def counterparty(ref: str, name: str, inn: str = "", kpp: str = "", **extra: Any) -> dict[str, Any]:
    """A Catalog_Контрагенты row as 1C answers it."""
    return {
        "Ref_Key": ref,
        "Description": name,
        "ИНН": inn,
        "КПП": kpp,
        "ВидКонтрагента": "ЮридическоеЛицо",
        "Ответственный_Key": OWN_MANAGER,
        "КонтактноеЛицо_Key": EMPTY_GUID,
        "IsFolder": False,
        "DeletionMark": False,
        "Parent_Key": EMPTY_GUID,
        "DataVersion": "AAAAAAAAAAE=",
        **extra,
    }


C1 = "c0000001-0000-11ef-9c3a-00155d0a1b01"
C2 = "c0000002-0000-11ef-9c3a-00155d0a1b01"


def test_company_buyer_takes_names_and_codes_from_its_requisite() -> None:
    buyer = party()
    assert buyer.source == "company"
    assert buyer.b24_id == 77
    assert buyer.kind is CounterpartyKind.LEGAL_ENTITY
    assert buyer.name == 'ООО "Стройресурс"'
    assert buyer.full_name == 'ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ "СТРОЙРЕСУРС"'
    assert (buyer.inn, buyer.kpp, buyer.okpo) == ("7701234567", "770101001", "12345678")


def test_contact_only_deal_is_a_private_person() -> None:
    buyer = buyer_party(ru_snapshot(with_company=False))
    assert buyer is not None
    assert buyer.source == "contact"
    assert buyer.kind is CounterpartyKind.PRIVATE_PERSON
    assert buyer.name == "Иванов Пётр Сергеевич"
    assert buyer.kpp == ""


def test_deal_without_buyer_has_no_party() -> None:
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    results["deal"].update({"COMPANY_ID": None, "CONTACT_ID": None})
    assert buyer_party(parse_deal_snapshot(results, [])) is None


def test_contact_person_only_for_company_deals() -> None:
    assert contact_person_for(ru_snapshot()) is not None
    assert contact_person_for(ru_snapshot(with_company=False)) is None


def test_sole_proprietor_preset_keeps_no_kpp() -> None:
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    results["company_requisites"][0].update({"PRESET_ID": "2", "RQ_INN": "500100732259", "RQ_KPP": "123"})
    buyer = buyer_party(parse_deal_snapshot(results, []))
    assert buyer is not None
    assert buyer.kind is CounterpartyKind.SOLE_PROPRIETOR
    assert buyer.kpp == ""


def test_linked_counterparty_wins() -> None:
    decision = decide_counterparty(
        party(), counterparty(C1, "Старое имя"), [counterparty(C2, "x", "7701234567")]
    )
    assert decision.kind is CounterpartyDecisionKind.USE_LINKED
    assert decision.ref == C1
    assert decision.responsible_ref == OWN_MANAGER


def test_deletion_marked_link_is_not_used() -> None:
    linked = counterparty(C1, 'ООО "Стройресурс"', DeletionMark=True)
    decision = decide_counterparty(party(), linked, [], [])
    assert decision.kind is CounterpartyDecisionKind.CREATE


def test_match_by_inn_and_kpp() -> None:
    decision = decide_counterparty(
        party(), None, [counterparty(C1, "Стройресурс", "7701234567", "770101001")]
    )
    assert decision.kind is CounterpartyDecisionKind.USE_MATCHED_BY_INN
    assert decision.ref == C1


def test_another_branch_kpp_is_not_the_same_counterparty() -> None:
    branch = counterparty(C1, "Стройресурс (филиал)", "7701234567", "770102002")
    decision = decide_counterparty(party(), None, [branch], [])
    assert decision.kind is CounterpartyDecisionKind.CREATE


def test_exact_kpp_beats_a_record_without_kpp() -> None:
    rows = [
        counterparty(C1, "Стройресурс", "7701234567", ""),
        counterparty(C2, "Стройресурс", "7701234567", "770101001"),
    ]
    assert decide_counterparty(party(), None, rows).ref == C2


def test_two_counterparties_with_the_same_inn_are_ambiguous() -> None:
    rows = [
        counterparty(C1, "Стройресурс", "7701234567", "770101001"),
        counterparty(C2, "СР", "7701234567", "770101001"),
    ]
    decision = decide_counterparty(party(), None, rows)
    assert decision.kind is CounterpartyDecisionKind.AMBIGUOUS
    assert {c.ref for c in decision.candidates} == {C1, C2}
    assert decision.ref is None


def test_match_by_exact_name_ignoring_case_and_spaces() -> None:
    decision = decide_counterparty(party(), None, [], [counterparty(C1, 'ооо  "СТРОЙРЕСУРС"')])
    assert decision.kind is CounterpartyDecisionKind.USE_MATCHED_BY_NAME
    assert decision.ref == C1


def test_same_name_with_a_different_inn_is_another_counterparty() -> None:
    decision = decide_counterparty(party(), None, [], [counterparty(C1, 'ООО "Стройресурс"', "7800000000")])
    assert decision.kind is CounterpartyDecisionKind.CREATE


def test_two_with_the_same_name_are_ambiguous() -> None:
    rows = [counterparty(C1, 'ООО "Стройресурс"'), counterparty(C2, 'ООО "Стройресурс"')]
    assert decide_counterparty(party(), None, [], rows).kind is CounterpartyDecisionKind.AMBIGUOUS


def test_folders_and_deleted_are_never_candidates() -> None:
    rows = [
        counterparty(C1, 'ООО "Стройресурс"', IsFolder=True),
        counterparty(C2, 'ООО "Стройресурс"', DeletionMark=True),
    ]
    assert decide_counterparty(party(), None, rows, rows).kind is CounterpartyDecisionKind.CREATE


def test_private_person_does_not_match_a_legal_entity_by_name() -> None:
    person = buyer_party(ru_snapshot(with_company=False))
    assert person is not None
    legal = counterparty(C1, "Иванов Пётр Сергеевич")
    natural = counterparty(C2, "Иванов Пётр Сергеевич", ВидКонтрагента="ФизическоеЛицо")
    assert decide_counterparty(person, None, [], [legal]).kind is CounterpartyDecisionKind.CREATE
    assert decide_counterparty(person, None, [], [legal, natural]).ref == C2


def test_search_filters_quote_like_odata() -> None:
    assert inn_filter(" 7701234567 ") == "ИНН eq '7701234567'"
    assert name_filter("ООО  'Ромашка'") == "Description eq 'ООО ''Ромашка'''"


EMPLOYEES = [
    Employee.from_onec(
        {
            "Ref_Key": SMIRNOVA,
            "Description": "Смирнова Анна Игоревна",
            "КонтактнаяИнформация": [
                {"LineNumber": "1", "Тип": "АдресЭлектроннойПочты", "Представление": "A.Smirnova@example.ru"}
            ],
        }
    ),
    Employee(ref=PETROV, description="Петров Олег Викторович"),
]
ANNA = B24User.model_validate(
    {"ID": "15", "EMAIL": "a.smirnova@example.ru", "NAME": "Анна", "LAST_NAME": "Смирнова"}
)


def test_existing_counterparty_manager_gets_the_order() -> None:
    decision = decide_responsible(OWN_MANAGER, 15, ANNA, EMPLOYEES, {}, DEFAULT)
    assert (decision.ref, decision.source, decision.warning) == (
        OWN_MANAGER,
        ResponsibleSource.COUNTERPARTY,
        False,
    )


def test_deal_responsible_is_found_by_email() -> None:
    decision = decide_responsible(EMPTY_GUID, 15, ANNA, EMPLOYEES, {}, DEFAULT)
    assert (decision.ref, decision.source) == (SMIRNOVA, ResponsibleSource.EMAIL)


def test_then_by_surname_and_name() -> None:
    user = ANNA.model_copy(update={"email": "anna@gmail.com"})
    decision = decide_responsible(None, 15, user, EMPLOYEES, {}, DEFAULT)
    assert (decision.ref, decision.source) == (SMIRNOVA, ResponsibleSource.NAME)


def test_then_by_the_settings_table() -> None:
    user = B24User.model_validate(
        {"ID": "21", "EMAIL": "o.p@corp.ru", "NAME": "Олег", "LAST_NAME": "Петров-Водкин"}
    )
    decision = decide_responsible(None, 21, user, EMPLOYEES, {"21": "Петров Олег Викторович"}, DEFAULT)
    assert (decision.ref, decision.source) == (PETROV, ResponsibleSource.MANAGERS_TABLE)


@pytest.mark.parametrize("default", [DEFAULT, None])
def test_else_default_employee_with_a_warning(default: str | None) -> None:
    decision = decide_responsible(None, 99, None, EMPLOYEES, {}, default)
    assert decision.ref == default
    assert decision.warning


def test_two_employees_with_the_same_name_are_not_guessed() -> None:
    twins = [
        Employee(ref=SMIRNOVA, description="Смирнова Анна"),
        Employee(ref=PETROV, description="Смирнова Анна Петровна"),
    ]
    user = ANNA.model_copy(update={"email": ""})
    decision = decide_responsible(None, 15, user, twins, {}, DEFAULT)
    assert decision.source is ResponsibleSource.DEFAULT
