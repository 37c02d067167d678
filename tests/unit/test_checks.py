"""The rules `check` applies to what the systems answer (bridge.checks), without sockets."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge import checks, probes
from bridge.domain import onec_sets
from bridge.onec.client import condition_argument
from bridge.setup import SetupProblem, SetupReport, StepReport

BRIDGE = Path(checks.__file__).parent
# A Bitrix24 method name as the bridge writes it: a literal or an f-string's fixed head.
METHOD = re.compile(
    r"""f?["']((?:crm|catalog|lists|user|im|bizproc|event|placement|department|userfieldconfig|"""
    r"""sale|task|disk|entity|telephony|calendar|app|profile|server|methods?)\.[A-Za-z_.{}]+)["']"""
)


def test_every_method_the_bridge_calls_has_its_scope_checked() -> None:
    called = {
        match for path in BRIDGE.rglob("*.py") for match in METHOD.findall(path.read_text(encoding="utf-8"))
    }
    assert {"crm.deal.update", "catalog.document.mode.status", "bizproc.workflow.start"} <= called
    unchecked = sorted(
        m
        for m in called
        if checks.scope_of(m) not in checks.SCOPE_METHODS and m not in checks.APPLICATION_METHODS
    )
    assert unchecked == []


def test_all_scopes_granted_is_no_finding() -> None:
    assert checks.missing_scopes(["crm", "catalog", "lists", "im", "bizproc", "user"]) == []


def test_a_narrower_user_grant_serves_user_get() -> None:
    assert checks.missing_scopes(["crm", "catalog", "lists", "im", "bizproc", "user_brief"]) == []


def test_each_missing_scope_is_one_finding_naming_it() -> None:
    findings = checks.missing_scopes(["CRM", "catalog"])
    assert [f.what.split("'")[1] for f in findings] == ["lists", "im", "bizproc", "user"]
    assert all(f.where == "Bitrix24 inbound webhook" for f in findings)
    assert findings[0].line().startswith("PROBLEM Bitrix24 inbound webhook: scope 'lists' is not granted")


def test_the_publication_must_cover_every_set_the_flows_read() -> None:
    everything = set(checks.ONEC_SETS)
    assert onec_sets.ORDERS in everything
    assert onec_sets.STOCK in everything
    assert onec_sets.PROPERTIES in everything
    assert checks.unpublished(everything) == ([], [])

    findings, notes = checks.unpublished(everything - {onec_sets.BANK_RECEIPTS, onec_sets.CONTACT_ROLES})

    assert [f.what for f in findings] == [f"{onec_sets.BANK_RECEIPTS} is not published"]
    why = checks.OPTIONAL_SETS[onec_sets.CONTACT_ROLES]
    assert notes == [f"note: 1C {onec_sets.CONTACT_ROLES} is not published: {why}"]


def test_service_document_names() -> None:
    document = {
        "odata.metadata": "…/$metadata",
        "value": [{"name": "Catalog_А", "url": "Catalog_А"}, {"url": "B"}],
    }
    assert checks.published_sets(document) == {"Catalog_А", "B"}
    with pytest.raises(ValueError, match="no 'value' list"):
        checks.published_sets({"error": "x"})


@pytest.mark.parametrize(
    ("offset_s", "flagged"), [(0, False), (59, False), (-60, False), (61, True), (-3600, True)]
)
def test_clock_skew_beyond_a_minute_is_a_problem(offset_s: int, flagged: bool) -> None:
    local = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    finding = checks.skew_finding("1C", local, local + timedelta(seconds=offset_s))
    assert (finding is not None) is flagged
    if finding is not None:
        assert ("ahead of" if offset_s > 0 else "behind") in finding.what


def test_dates_from_both_systems_parse() -> None:
    assert checks.http_date("Thu, 03 Dec 2026 13:00:00 GMT") == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    assert checks.iso_date("2026-12-03T16:00:00+03:00") == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    assert checks.http_date("yesterday") is None
    assert checks.iso_date("2026-12-03T16:00:00") is None  # no zone: nothing to compare with


def test_a_dry_setup_with_work_left_is_a_problem_per_action() -> None:
    report = SetupReport(
        dry_run=True,
        steps=(
            StepReport(
                "deals", actions=("would create the deal user field UF_CRM_1C_ORDER_NO", "found funnel x")
            ),
            StepReport(
                "catalog", problems=(SetupProblem("Bitrix24 catalog", "no price type found", "set it"),)
            ),
        ),
    )
    lines = [f.line() for f in checks.setup_findings(report)]
    assert lines == [
        "PROBLEM [catalog] Bitrix24 catalog: no price type found — fix: set it",
        "PROBLEM [deals] setup: not done yet: would create the deal user field UF_CRM_1C_ORDER_NO"
        " — fix: run `python -m bridge.cli setup`",
    ]


def test_report_verdicts() -> None:
    report = checks.CheckReport()
    report.ran("a")
    report.ran("b")
    assert report.ok
    assert report.lines() == ["check: all 2 checks passed"]
    report.ran("c", [checks.Finding("here", "wrong", "mend it")])
    assert not report.ok
    assert report.lines() == ["PROBLEM here: wrong — fix: mend it", "check: 1 problem(s) in 3 checks"]


# ---- live-check probes: how an answer is classified -------------------------------------------------


@pytest.mark.parametrize(
    ("body", "form"),
    [("42", "text"), (" 7\n", "text"), ('{"value": 3}', "json"), ('"3"', "json"), ("<x/>", "other")],
)
def test_count_answer_forms(body: str, form: str) -> None:
    assert probes.count_form(body) == form


@pytest.mark.parametrize(
    ("value", "form"), [("Y", "string"), ("n", "string"), (True, "boolean"), (1, "other")]
)
def test_mode_status_forms(value: object, form: str) -> None:
    assert probes.mode_status_form(value) == form


def test_condition_forms_on_the_wire() -> None:
    condition = "Номенклатура_Key eq guid'abc'"
    assert condition_argument(condition, "doubled") == "Condition='Номенклатура_Key eq guid''abc'''"
    assert condition_argument(condition, "nested") == "Condition='Номенклатура_Key eq guid'abc''"
    path, options = probes.condition_request("query")
    assert options == [("Condition", probes.PROBE_CONDITION)]
    assert path.endswith(
        "/Balance(Dimensions='%D0%9D%D0%BE%D0%BC%D0%B5%D0%BD%D0%BA%D0%BB%D0%B0%D1%82%D1%83%D1%80%D0%B0')"
    )
    path, options = probes.condition_request("doubled")
    assert options == []
    assert ",Condition='" in path
