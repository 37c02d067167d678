"""POST/PATCH/DELETE of catalog items and documents, with the УНФ write handlers that matter here."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sandbox.onec.errors import internal_error, line_numbers_invalid, record_already_exists
from sandbox.onec.model import EntitySet, Prop, TabularSection
from sandbox.onec.storage import Store, blank_row, companion_base
from sandbox.onec.values import coerce, default_value, ensure_object, parse_line_number

ORDER = "Document_ЗаказПокупателя"
STATE_HISTORY = "InformationRegister_ИсторияСостоянийЗаказов"
# Set by the platform or by `Post`/`Unpost`, never taken from a request body.
_READ_ONLY = frozenset({"Ref_Key", "DataVersion", "Predefined", "PredefinedDataName", "Posted"})


def _rows(section: TabularSection, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise internal_error()
    rows: list[dict[str, Any]] = []
    for item in raw:
        source = ensure_object(item)
        if "LineNumber" not in source:
            raise internal_error()
        row = blank_row(section)
        for name, value in source.items():
            prop = section.prop(name)
            if prop is None or name == "Ref_Key":
                continue
            row[name] = parse_line_number(value) if name == "LineNumber" else coerce(prop, value)
        rows.append(row)
    numbers = sorted(r["LineNumber"] for r in rows)
    if numbers != list(range(1, len(rows) + 1)):
        raise line_numbers_invalid()
    return sorted(rows, key=lambda r: r["LineNumber"])


def apply_body(entity_set: EntitySet, obj: dict[str, Any], body: dict[str, Any], creating: bool) -> None:
    for name, value in body.items():
        if name in _READ_ONLY or (name == "IsFolder" and not creating):
            continue
        prop: Prop | None = entity_set.prop(name)
        if prop is None:
            continue  # unknown properties (and odata.* annotations) are silently ignored
        if prop.is_collection:
            obj[name] = _rows(entity_set.tabular[name], value)
        else:
            obj[name] = coerce(prop, value)


class ObjectWriter:
    def __init__(self, store: Store, now: Callable[[], str]) -> None:
        self.store = store
        self.now = now

    def create(self, entity_set: EntitySet, body: dict[str, Any], ref: str | None = None) -> dict[str, Any]:
        obj = self.store.blank(entity_set)
        if ref is not None:
            obj["Ref_Key"] = ref
        apply_body(entity_set, obj, body, creating=True)
        if entity_set.code_length and not obj.get("Code"):
            obj["Code"] = self.store.next_code(entity_set.name, "Code", entity_set.code_length)
        if entity_set.number_length and not obj.get("Number"):
            obj["Number"] = self.store.next_code(entity_set.name, "Number", entity_set.number_length)
        if entity_set.kind == "Document" and obj.get("Date") == "0001-01-01T00:00:00":
            obj["Date"] = self.now()
        if entity_set.prop("ДатаСоздания") is not None and obj.get("ДатаСоздания") == "0001-01-01T00:00:00":
            obj["ДатаСоздания"] = self.now()
        obj["DataVersion"] = 0
        self._before_write(entity_set, obj, previous=None)
        self.store.put(entity_set.name, obj)
        return obj

    def update(self, entity_set: EntitySet, current: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        updated = copy.deepcopy(current)
        apply_body(entity_set, updated, body, creating=False)
        updated["DataVersion"] = int(current.get("DataVersion", 0)) + 1
        self._before_write(entity_set, updated, previous=current)
        self.store.put(entity_set.name, updated)
        return updated

    def touch(self, entity_set: EntitySet, current: dict[str, Any], **changes: Any) -> dict[str, Any]:
        updated = {**current, **changes, "DataVersion": int(current.get("DataVersion", 0)) + 1}
        self.store.put(entity_set.name, updated)
        return updated

    def _before_write(
        self, entity_set: EntitySet, obj: dict[str, Any], previous: dict[str, Any] | None
    ) -> None:
        """What УНФ's ПередЗаписью/ПриЗаписи do for the objects the integration touches (RU169)."""
        if entity_set.name in (ORDER, "Catalog_Номенклатура"):
            obj["ДатаИзменения"] = self.now()
        if entity_set.name == ORDER:
            total = sum(float(r.get("Всего") or 0) for r in obj.get("Запасы", []))
            total += sum(float(r.get("Всего") or 0) for r in obj.get("Работы", []))
            obj["СуммаДокумента"] = round(total, 2)
            self._record_state_change(obj, previous)

    def _record_state_change(self, order: dict[str, Any], previous: dict[str, Any] | None) -> None:
        state = (order.get("СостояниеЗаказа"), order.get("СостояниеЗаказа_Type"))
        if previous is not None and state == (
            previous.get("СостояниеЗаказа"),
            previous.get("СостояниеЗаказа_Type"),
        ):
            return
        if not state[0]:
            return
        records = self.store.records(STATE_HISTORY)
        period = self.now()
        records[:] = [r for r in records if not (r["Period"] == period and r["Заказ"] == order["Ref_Key"])]
        records.append(
            {
                "Period": period,
                "Заказ": order["Ref_Key"],
                "Заказ_Type": f"StandardODATA.{ORDER}",
                "Состояние": state[0],
                "Состояние_Type": state[1],
            }
        )


def register_key(entity_set: EntitySet, record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(record.get(k) for k in entity_set.key)


def create_record(store: Store, entity_set: EntitySet, body: dict[str, Any]) -> dict[str, Any]:
    record = {p.name: default_value(p, companion_base(entity_set.props, p)) for p in entity_set.props}
    for name, value in body.items():
        prop = entity_set.prop(name)
        if prop is not None:
            record[name] = coerce(prop, value)
    records = store.records(entity_set.name)
    key = register_key(entity_set, record)
    if any(register_key(entity_set, r) == key for r in records):
        raise record_already_exists()
    records.append(record)
    return record


def update_record(entity_set: EntitySet, record: dict[str, Any], body: dict[str, Any]) -> None:
    for name, value in body.items():
        prop = entity_set.prop(name)
        if prop is not None and name not in entity_set.key:
            record[name] = coerce(prop, value)
