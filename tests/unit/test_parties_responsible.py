"""The responsible manager both ways: 1C employee ⇄ Bitrix24 user, by e-mail, then the managers table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from bridge.b24.client import B24Client
from bridge.config.parties import PartiesMapping
from bridge.domain.responsible import Employee
from bridge.parties.b24_map import B24Party, company_state
from bridge.parties.onec_map import counterparty_patch, counterparty_state
from bridge.parties.resolved import PartiesResolved
from bridge.parties.responsible import ResponsibleMap

IVANOVA = "aaaaaaaa-0000-0000-0000-000000000001"
KUZNETSOV = "aaaaaaaa-0000-0000-0000-000000000002"
NO_EMAIL = "aaaaaaaa-0000-0000-0000-000000000003"
EMPLOYEES = (
    Employee(ref=IVANOVA, description="Иванова Мария Петровна", emails=("m.ivanova@example.test",)),
    Employee(ref=KUZNETSOV, description="Кузнецов Сергей Андреевич", emails=("S.Kuznetsov@example.test",)),
    Employee(ref=NO_EMAIL, description="Петров Павел", emails=()),
)
USERS = [
    {"ID": "1", "NAME": "Алексей", "LAST_NAME": "Администраторов", "EMAIL": "admin@example.test"},
    {"ID": "2", "NAME": "Мария", "LAST_NAME": "Иванова", "EMAIL": "m.ivanova@example.test"},
    {"ID": "3", "NAME": "Сергей", "LAST_NAME": "Кузнецов", "EMAIL": "s.kuznetsov@example.test"},
    {"ID": "9", "NAME": "Паша", "LAST_NAME": "П.", "EMAIL": "pavel@example.test"},
]


@dataclass
class _Answer:
    result: Any


@dataclass
class FakeB24:
    calls: list[dict[str, Any]] = field(default_factory=list)

    def call(self, method: str, params: dict[str, Any]) -> _Answer:
        assert method == "user.get"
        self.calls.append(params)
        wanted = params["FILTER"]
        rows = [u for u in USERS if all(str(u[k]).casefold() == str(v).casefold() for k, v in wanted.items())]
        return _Answer(rows)


def _map(managers: dict[str, str] | None = None) -> tuple[ResponsibleMap, FakeB24]:
    b24 = FakeB24()
    loads: list[int] = []

    def load() -> tuple[Employee, ...]:
        loads.append(1)
        assert len(loads) == 1, "the directory is read once per map"
        return EMPLOYEES

    return ResponsibleMap(cast(B24Client, b24), load, managers or {}), b24


def test_a_bitrix24_user_maps_to_the_employee_with_the_same_email() -> None:
    users, _ = _map()
    assert users.employee_of("3") == KUZNETSOV
    assert users.employee_of(2) == IVANOVA


def test_an_employee_maps_to_the_bitrix24_user_with_the_same_email_once_per_run() -> None:
    users, b24 = _map()
    assert users.user_of(KUZNETSOV.upper()) == "3"
    assert users.user_of(KUZNETSOV) == "3"
    assert b24.calls == [{"FILTER": {"EMAIL": "S.Kuznetsov@example.test"}}]


def test_unmatched_users_and_employees_map_to_empty() -> None:
    users, _ = _map()
    assert users.employee_of("1") == ""  # the portal admin is no 1C employee
    assert users.employee_of("0") == ""
    assert users.employee_of(None) == ""
    assert users.user_of(NO_EMAIL) == ""
    assert users.user_of("bbbbbbbb-0000-0000-0000-000000000000") == ""


def test_the_managers_table_maps_both_ways_when_emails_do_not_match() -> None:
    users, _ = _map({"9": "Петров Павел"})
    assert users.employee_of("9") == NO_EMAIL
    assert users.user_of(NO_EMAIL) == "9"


def test_both_sides_carry_the_responsible_as_the_employee_ref() -> None:
    resolved, config = PartiesResolved(), PartiesMapping()
    row = {"Ref_Key": "r", "Description": "Альфа", "Ответственный_Key": KUZNETSOV.upper()}
    onec = counterparty_state(row, resolved)
    users, _ = _map()
    party = B24Party("COMPANY", {"ID": "5", "TITLE": "Альфа", "ASSIGNED_BY_ID": "3"})
    b24 = company_state(party, resolved, config, users.employee_of(party.record["ASSIGNED_BY_ID"]))
    assert onec["responsible"] == b24["responsible"] == KUZNETSOV
    empty = counterparty_state(
        {"Ref_Key": "r", "Ответственный_Key": "00000000-0000-0000-0000-000000000000"}, resolved
    )
    assert empty["responsible"] == ""


def test_the_1c_patch_writes_the_responsible_employee() -> None:
    body = counterparty_patch({"responsible": IVANOVA}, {}, PartiesResolved())
    assert body == {"Ответственный_Key": IVANOVA}


def test_bitrix24_owns_the_responsible_by_default() -> None:
    assert PartiesMapping().owner_of("responsible") == "b24"


def test_a_first_link_keeps_the_1c_manager_later_changes_follow_the_owner() -> None:
    from bridge.config.parties import PartiesMapping

    config = PartiesMapping()
    assert config.owner_of("responsible") == "b24"
    assert config.first_link_owner_of("responsible") == "1c"  # §2.6.1: the counterparty's own manager
    assert config.first_link_owner_of("phones") == config.owner_of("phones")
