"""1C employees with their e-mails, cached per process: the responsible-manager lookup.

In УНФ 1.6 `Catalog_Сотрудники` has no contact information; the e-mail lives on the employee's
person (`Catalog_ФизическиеЛица.КонтактнаяИнформация`, `АдресЭП`). Two list calls build the
directory; it is kept for a few minutes so a warm worker maps managers without calling 1C, and,
given a `SharedDirectory` (SyncTable), shared with every other container: a cold one takes the
copy a sibling read instead of making the two list calls again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from threading import Lock
from typing import Any, Protocol

from bridge.domain.onec_sets import EMAIL, EMPLOYEES, PERSONS
from bridge.domain.responsible import Employee

CACHE_TTL_S = 600.0


class EntityReader(Protocol):
    """The part of the 1C client the directory reads through (`bridge.onec.client.ODataClient`)."""

    def iter_all(self, entity_set: str, *, select: Sequence[str]) -> Iterator[dict[str, Any]]: ...


class SharedDirectory(Protocol):
    """A copy of the directory's rows shared between containers (`bridge.store.SharedCopy`)."""

    def load(self) -> tuple[float, Any] | None: ...

    def save(self, rows: Any) -> None: ...


_cache: dict[int, tuple[float, tuple[Employee, ...]]] = {}
_lock = Lock()


def _person_emails(onec: EntityReader) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for row in onec.iter_all(PERSONS, select=["Ref_Key", "КонтактнаяИнформация"]):
        emails = tuple(
            str(info.get("АдресЭП") or info.get("Представление") or "").strip()
            for info in row.get("КонтактнаяИнформация") or []
            if isinstance(info, dict) and info.get("Тип") == EMAIL
        )
        found[str(row["Ref_Key"])] = tuple(e for e in emails if e)
    return found


def _from_shared(shared: SharedDirectory, max_age_s: float) -> tuple[float, tuple[Employee, ...]] | None:
    """(age, employees) of the shared copy when it is young enough and readable."""
    loaded = shared.load()
    if loaded is None or loaded[0] >= max_age_s or not isinstance(loaded[1], list):
        return None
    try:
        return loaded[0], tuple(Employee.model_validate(row) for row in loaded[1])
    except ValueError:
        return None  # an older shape: read 1C and save a new copy


def employees(
    onec: EntityReader, *, max_age_s: float = CACHE_TTL_S, shared: SharedDirectory | None = None
) -> tuple[Employee, ...]:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(id(onec))
    if cached is not None and now - cached[0] < max_age_s:
        return cached[1]
    copy = _from_shared(shared, max_age_s) if shared is not None else None
    if copy is not None:
        age, result = copy
        with _lock:
            _cache[id(onec)] = (now - age, result)  # expires when the shared copy does
        return result
    result = _read(onec)
    with _lock:
        _cache[id(onec)] = (now, result)
    if shared is not None:
        shared.save([employee.model_dump(mode="json") for employee in result])
    return result


def _read(onec: EntityReader) -> tuple[Employee, ...]:
    emails = _person_emails(onec)
    return tuple(
        Employee(
            ref=str(row["Ref_Key"]),
            description=str(row.get("Description") or ""),
            emails=emails.get(str(row.get("Физлицо_Key") or ""), ()),
        )
        for row in onec.iter_all(EMPLOYEES, select=["Ref_Key", "Description", "Физлицо_Key", "DeletionMark"])
        if not row.get("DeletionMark")
    )


def forget() -> None:
    with _lock:
        _cache.clear()
