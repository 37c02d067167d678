"""Bitrix24 wire data parses into the deal flow's models; the batch plan reads a whole deal at once."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from bridge.b24.php_query import decode, encode
from bridge.deals.models import Company, Contact, Deal, ProductRow, Requisite, WireDataError, parse_wire
from bridge.deals.snapshot import deal_read_plan, parse_deal_snapshot
from bridge.domain.users import B24User
from bridge.errors import PermanentError, TransientError
from tests.harness.fixture_files import load


def ru_batch() -> dict[str, Any]:
    result: dict[str, Any] = load("deals/batch.result.ru.json")
    return result


def test_documented_deal_parses_with_strings_nulls_and_offsets() -> None:
    deal = parse_wire(Deal, load("b24/crm.deal.get.response.json")["result"], "deal")
    assert deal.id == 410
    assert deal.category_id == 0
    assert deal.company_id == 9
    assert deal.contact_id == 84
    assert deal.opportunity == Decimal("1000000.00")
    assert deal.stage_semantic_id == "P"
    assert deal.begin_date is not None
    assert deal.begin_date.utcoffset() == timedelta(hours=2)
    assert deal.comments == "[B]Example comment[/B]"
    assert deal.user_fields == {"UF_CRM_1721244482250": "Hello world!"}


def test_documented_product_rows_mix_native_numbers_and_strings() -> None:
    rows = [
        parse_wire(ProductRow, r, "row") for r in load("b24/crm.deal.productrows.get.response.json")["result"]
    ]
    assert [r.product_id for r in rows] == [450, 449]
    assert rows[0].price == Decimal("899.1")  # not 899.10000000000002
    assert rows[0].tax_rate is None
    assert rows[0].tax_included is True
    assert rows[0].measure_code == 796


def test_documented_contact_company_requisite_and_user_parse() -> None:
    contact = parse_wire(Contact, load("b24/crm.contact.get.response.json")["result"], "contact")
    assert contact.full_name == "Smith John Doe"
    assert [p.value_type for p in contact.phones] == ["WORK", "HOME"]
    company = parse_wire(Company, load("b24/crm.company.get.response.json")["result"], "company")
    assert company.title == "GAZPROM"
    assert company.phones == ()
    requisite = parse_wire(Requisite, load("b24/crm.requisite.get.response.json")["result"], "requisite")
    assert (requisite.preset_id, requisite.inn, requisite.kpp) == (1, "7717586110", "770501001")
    assert requisite.okpo == ""  # null → empty
    users = [parse_wire(B24User, u, "user") for u in load("b24/user.get.response.json")["result"]]
    assert users[1].display_name == "John Smith"


def test_empty_references_become_none() -> None:
    deal = parse_wire(Deal, {"ID": "5", "COMPANY_ID": "0", "CONTACT_ID": None, "ASSIGNED_BY_ID": ""}, "deal")
    assert (deal.company_id, deal.contact_id, deal.assigned_by_id) == (None, None, None)


def test_display_date_form_is_accepted() -> None:
    deal = parse_wire(Deal, {"ID": "5", "BEGINDATE": "11.11.2001"}, "deal")
    assert deal.begin_date is not None
    assert deal.begin_date.date().isoformat() == "2001-11-11"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"ID": "abc"}, "ID"),
        ({"ID": "5", "OPPORTUNITY": "много"}, "OPPORTUNITY"),
        ({"ID": "5", "COMPANY_ID": ["9"]}, "COMPANY_ID"),
        ({"ID": "5", "BEGINDATE": "вчера"}, "BEGINDATE"),
        ({"TITLE": "no id"}, "ID"),
    ],
)
def test_bad_input_names_the_field(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(WireDataError, match=fragment) as caught:
        parse_wire(Deal, data, "deal 5")
    assert "deal 5" in str(caught.value)
    assert isinstance(caught.value, PermanentError)


def test_read_plan_is_one_batch_with_back_references() -> None:
    plan = deal_read_plan(1024)
    assert plan["deal"] == ("crm.deal.get", {"id": 1024})
    assert plan["rows"] == ("crm.deal.productrows.get", {"id": 1024})
    assert plan["company"] == ("crm.company.get", {"id": "$result[deal][COMPANY_ID]"})
    assert plan["contact"] == ("crm.contact.get", {"id": "$result[deal][CONTACT_ID]"})
    method, params = plan["company_requisites"]
    assert method == "crm.requisite.list"
    assert params["filter"] == {"ENTITY_TYPE_ID": 4, "ENTITY_ID": "$result[deal][COMPANY_ID]"}
    assert plan["contact_requisites"][1]["filter"] == {
        "ENTITY_TYPE_ID": 3,
        "ENTITY_ID": "$result[deal][CONTACT_ID]",
    }
    assert len(plan) <= 50
    # The back-reference survives the PHP bracket encoding a batch `cmd` uses.
    assert decode(encode(params))["filter"]["ENTITY_ID"] == "$result[deal][COMPANY_ID]"


def test_russian_snapshot_parses_whole() -> None:
    snapshot = parse_deal_snapshot(ru_batch(), [])
    assert snapshot.deal.title == "Плитка для склада на Складской, 12"
    assert [r.product_id for r in snapshot.ordered_rows] == [501, 502, 640]
    assert snapshot.company is not None
    assert snapshot.company.title == 'ООО "Стройресурс"'
    assert snapshot.contact is not None
    assert snapshot.contact.full_name == "Иванов Пётр Сергеевич"
    assert snapshot.company_requisite is not None
    assert snapshot.company_requisite.inn == "7701234567"
    assert snapshot.assigned_user is not None
    assert snapshot.assigned_user.email == "a.smirnova@example.ru"


def test_deal_without_company_tolerates_the_failed_reference_commands() -> None:
    results = ru_batch()
    results["deal"]["COMPANY_ID"] = None
    del results["company"]
    # Bitrix24 ignores an empty ENTITY_ID filter: requisites of other companies may come back.
    results["company_requisites"] = [{"ID": "3", "ENTITY_TYPE_ID": "4", "ENTITY_ID": "12", "PRESET_ID": "1"}]
    errors = {"company": {"error": "", "error_description": "ID is not defined or invalid."}}
    snapshot = parse_deal_snapshot(results, errors)
    assert snapshot.company is None
    assert snapshot.company_requisites == ()
    assert snapshot.contact is not None


def test_contact_requisites_of_someone_else_are_dropped() -> None:
    results = ru_batch()
    results["contact_requisites"] = [
        {"ID": "8", "ENTITY_TYPE_ID": "3", "ENTITY_ID": "310", "PRESET_ID": "3", "RQ_INN": "500100732259"},
        {"ID": "9", "ENTITY_TYPE_ID": "3", "ENTITY_ID": "999", "PRESET_ID": "3", "RQ_INN": "000000000000"},
    ]
    snapshot = parse_deal_snapshot(results, [])
    assert [r.id for r in snapshot.contact_requisites] == [8]


def test_empty_php_sections_are_accepted() -> None:
    results = {"deal": {"ID": "7", "STAGE_ID": "NEW"}, "rows": []}
    snapshot = parse_deal_snapshot(results, [])
    assert snapshot.rows == ()
    assert snapshot.company is None
    assert snapshot.assigned_user is None


def test_rate_limit_inside_the_batch_is_transient() -> None:
    errors = {"deal": load("b24/error.QUERY_LIMIT_EXCEEDED.json")}
    with pytest.raises(TransientError):
        parse_deal_snapshot([], errors)


def test_missing_deal_is_permanent() -> None:
    halt0 = load("b24/batch.response.error.halt0.json")["result"]
    renamed = {"deal": halt0["result_error"]["get_user"]}
    with pytest.raises(WireDataError, match="insufficient_scope"):
        parse_deal_snapshot(halt0["result"], renamed)


def test_company_referenced_but_missing_is_an_error() -> None:
    results = ru_batch()
    del results["company"]
    with pytest.raises(WireDataError, match="company 77"):
        parse_deal_snapshot(results, [])


def test_parsing_does_not_mutate_input() -> None:
    results = ru_batch()
    before = copy.deepcopy(results)
    parse_deal_snapshot(results, [])
    assert results == before
