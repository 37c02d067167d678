"""The responsible manager: 1C `Ответственный_Key` (employee) ⇄ Bitrix24 `ASSIGNED_BY_ID` (user).

The neutral value is the employee reference, so both sides compare by it. Matching reuses the deal
flow's: the employee directory (1C persons' e-mails) and `decide_responsible` (e-mail, then
"Фамилия Имя", then the `[managers]` table). An unmatched user or employee maps to "" — empty never
overwrites the other side. Lookups are cached per flow instance (one run or one event).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from bridge.b24.client import B24Client
from bridge.domain.responsible import Employee, ResponsibleSource, decide_responsible
from bridge.domain.text import name_key
from bridge.domain.users import B24User

_MATCHED = (ResponsibleSource.EMAIL, ResponsibleSource.NAME, ResponsibleSource.MANAGERS_TABLE)


def _user_id(value: Any) -> str:
    text = str(value or "").strip()
    return text if text.isdigit() and text != "0" else ""


@dataclass
class ResponsibleMap:
    b24: B24Client
    # Called at most once per instance: the 1C directory is only read when a manager is involved.
    load_employees: Callable[[], Sequence[Employee]]
    managers: Mapping[str, str]  # Bitrix24 user id → employee description (settings `[managers]`)
    _employees: tuple[Employee, ...] | None = field(default=None, init=False)
    _employee_of_user: dict[str, str] = field(default_factory=dict, init=False)
    _user_of_employee: dict[str, str] = field(default_factory=dict, init=False)

    def employees(self) -> tuple[Employee, ...]:
        if self._employees is None:
            self._employees = tuple(self.load_employees())
        return self._employees

    def employee_of(self, assigned_by_id: Any) -> str:
        """The employee ref (lower case) for a Bitrix24 user id; "" when none matches."""
        user_id = _user_id(assigned_by_id)
        if not user_id:
            return ""
        if user_id not in self._employee_of_user:
            self._employee_of_user[user_id] = self._match_employee(user_id)
        return self._employee_of_user[user_id]

    def _match_employee(self, user_id: str) -> str:
        rows = self.b24.call("user.get", {"FILTER": {"ID": user_id}}).result
        user = _parse_user(rows[0]) if isinstance(rows, list) and rows else None
        decision = decide_responsible(None, int(user_id), user, self.employees(), self.managers, None)
        return decision.ref.lower() if decision.ref and decision.source in _MATCHED else ""

    def user_of(self, employee_ref: str) -> str:
        """The Bitrix24 user id for an employee ref; "" when none matches."""
        ref = employee_ref.strip().lower()
        if not ref:
            return ""
        if ref not in self._user_of_employee:
            self._user_of_employee[ref] = self._match_user(ref)
        return self._user_of_employee[ref]

    def _match_user(self, ref: str) -> str:
        employee = next((e for e in self.employees() if e.ref.lower() == ref), None)
        if employee is None:
            return ""
        for email in employee.emails:
            rows = self.b24.call("user.get", {"FILTER": {"EMAIL": email.strip()}}).result
            ids = [
                _user_id(r.get("ID"))
                for r in rows or []
                if isinstance(r, Mapping)
                and str(r.get("EMAIL") or "").strip().casefold() == email.strip().casefold()
            ]
            if len(ids) == 1 and ids[0]:
                return ids[0]
        wanted = name_key(employee.description)
        listed = [uid for uid, name in self.managers.items() if name_key(name) == wanted and _user_id(uid)]
        return listed[0] if len(listed) == 1 else ""


def _parse_user(row: Any) -> B24User | None:
    if not isinstance(row, Mapping):
        return None
    try:
        return B24User.model_validate(dict(row))
    except ValidationError:
        return None
