"""The setup runner: every step's problems and actions are reported, one line each."""

from __future__ import annotations

from typing import Any

from bridge.errors import TransientError
from bridge.setup import SetupProblem, run_steps
from bridge.setup.b24_fields import UserFieldSpec, add_params, ensure_user_fields


def _ok(ports: Any, *, dry_run: bool) -> list[SetupProblem | str]:
    return ["would create X" if dry_run else "created X"]


def _missing(ports: Any, *, dry_run: bool) -> list[SetupProblem | str]:
    return [SetupProblem("1C Catalog_Организации", "no 'Рога'", "set onec.organization")]


def _down(ports: Any, *, dry_run: bool) -> list[SetupProblem | str]:
    raise TransientError("1C is not answering")


def test_problems_and_actions_of_every_step_are_reported() -> None:
    report = run_steps([("a", _ok), ("b", _missing), ("c", _down)], ports=None, dry_run=True)
    assert report.actions == ("would create X",)
    assert [p.where for p in report.problems] == ["1C Catalog_Организации", "c"]
    assert not report.ok
    lines = report.lines()
    assert "[b] PROBLEM 1C Catalog_Организации: no 'Рога' — set onec.organization" in lines
    assert lines[-1] == "setup (dry run): 2 problem(s)"


def test_a_clean_run_says_ready() -> None:
    report = run_steps([("a", _ok)], ports=None, dry_run=False)
    assert report.ok
    assert report.lines() == ["[a] created X", "setup: ready"]


class FakeB24:
    def __init__(self, existing: list[dict[str, Any]]) -> None:
        self.existing = existing
        self.added: list[dict[str, Any]] = []

    def list_all(self, method: str, params: Any = None) -> list[dict[str, Any]]:
        return self.existing

    def call(self, method: str, params: dict[str, Any]) -> Any:
        class Answer:
            result: Any

        answer = Answer()
        if method.endswith(".add"):
            self.added.append(params["fields"])
            options = [
                {"ID": i + 1, "VALUE": o["VALUE"]} for i, o in enumerate(params["fields"].get("LIST", []))
            ]
            self.existing.append(
                {
                    "ID": 9,
                    "FIELD_NAME": "UF_CRM_" + params["fields"]["FIELD_NAME"],
                    "USER_TYPE_ID": params["fields"]["USER_TYPE_ID"],
                    "LIST": options,
                }
            )
            answer.result = 9
        else:
            answer.result = self.existing[-1]
        return answer


STATUS = UserFieldSpec("UF_CRM_1C_PAY_STATUS", "Оплата", "enumeration", ("Не оплачен", "Оплачен"))


def test_a_missing_enumeration_field_is_created_once_with_its_values() -> None:
    b24 = FakeB24([])
    options, results = ensure_user_fields(b24, "deal", [STATUS], dry_run=False)  # type: ignore[arg-type]
    assert b24.added[0]["FIELD_NAME"] == "1C_PAY_STATUS"
    assert options == {"UF_CRM_1C_PAY_STATUS": {"Не оплачен": 1, "Оплачен": 2}}
    assert results == ["created deal user field UF_CRM_1C_PAY_STATUS «Оплата» (enumeration)"]
    again, results = ensure_user_fields(b24, "deal", [STATUS], dry_run=False)  # type: ignore[arg-type]
    assert again == options
    assert results == []
    assert len(b24.added) == 1


def test_dry_run_creates_nothing_and_a_wrong_type_is_a_problem() -> None:
    b24 = FakeB24([])
    _, results = ensure_user_fields(b24, "deal", [STATUS], dry_run=True)  # type: ignore[arg-type]
    assert b24.added == []
    assert results == ["would create deal user field UF_CRM_1C_PAY_STATUS «Оплата» (enumeration)"]
    b24 = FakeB24([{"FIELD_NAME": "UF_CRM_1C_PAY_STATUS", "USER_TYPE_ID": "string"}])
    _, results = ensure_user_fields(b24, "deal", [STATUS], dry_run=False)  # type: ignore[arg-type]
    assert isinstance(results[0], SetupProblem)
    assert "is of type string" in results[0].what


def test_add_params_label_every_language_and_list_values_in_order() -> None:
    fields = add_params(STATUS)["fields"]
    assert fields["EDIT_FORM_LABEL"] == {"ru": "Оплата", "en": "Оплата"}
    assert [v["VALUE"] for v in fields["LIST"]] == ["Не оплачен", "Оплачен"]
