"""In-memory infobase: objects per entity set, independent register records, stock movements."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from typing import Any

from sandbox.onec.model import EntitySet, Prop, ServiceModel, TabularSection
from sandbox.onec.values import default_value


def companion_base(props: list[Prop], prop: Prop) -> Prop | None:
    if not prop.is_type_companion:
        return None
    base_name = prop.name[: -len("_Type")]
    return next((p for p in props if p.name == base_name and p.composite), None)


def blank_row(section: TabularSection) -> dict[str, Any]:
    return {
        p.name: default_value(p, companion_base(section.props, p))
        for p in section.props
        if p.name != "Ref_Key"
    }


@dataclass
class Store:
    model: ServiceModel
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    info_records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    stock_records: list[dict[str, Any]] = field(default_factory=list)

    def blank(self, entity_set: EntitySet) -> dict[str, Any]:
        obj = {
            p.name: default_value(p, companion_base(entity_set.props, p))
            for p in entity_set.props
            if p.name != "Ref_Key"
        }
        obj["Ref_Key"] = str(uuid.uuid4())
        return obj

    def table(self, set_name: str) -> dict[str, dict[str, Any]]:
        return self.objects.setdefault(set_name, {})

    def get(self, set_name: str, ref: str) -> dict[str, Any] | None:
        return self.objects.get(set_name, {}).get(ref.lower())

    def put(self, set_name: str, obj: dict[str, Any]) -> None:
        self.table(set_name)[obj["Ref_Key"]] = obj

    def delete(self, set_name: str, ref: str) -> bool:
        return self.table(set_name).pop(ref.lower(), None) is not None

    def records(self, register: str) -> list[dict[str, Any]]:
        return self.info_records.setdefault(register, [])

    def next_code(self, set_name: str, field_name: str, length: int) -> str:
        numbers = [
            int(value)
            for obj in self.table(set_name).values()
            if isinstance(value := obj.get(field_name), str) and value.isdigit()
        ]
        return str(max(numbers, default=0) + 1).zfill(length)

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(
            {"objects": self.objects, "info_records": self.info_records, "stock_records": self.stock_records}
        )

    def restore(self, data: dict[str, Any]) -> None:
        self.objects = copy.deepcopy(data.get("objects", {}))
        self.info_records = copy.deepcopy(data.get("info_records", {}))
        self.stock_records = copy.deepcopy(data.get("stock_records", []))

    def clear(self) -> None:
        self.objects.clear()
        self.info_records.clear()
        self.stock_records.clear()
