"""`Post` / `Unpost` document actions and the stock movements they write."""

from __future__ import annotations

from typing import Any

from sandbox.onec.errors import ODataError
from sandbox.onec.model import EMPTY_GUID, EntitySet
from sandbox.onec.storage import Store
from sandbox.onec.writes import ObjectWriter

STOCK_DIMENSIONS = (
    "Организация_Key",
    "Номенклатура_Key",
    "Характеристика_Key",
    "Партия_Key",
    "СтруктурнаяЕдиница_Key",
    "Ячейка_Key",
)
# Documents whose posting moves goods: shipment out of a warehouse (Expense).
_STOCK_EXPENSE = {"Document_РасходнаяНакладная": ("Запасы", "СтруктурнаяЕдиница_Key")}


def stock_record(
    recorder: str, recorder_type: str, period: str, line: int, record_type: str, **values: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "Recorder": recorder,
        "Recorder_Type": recorder_type,
        "Period": period,
        "LineNumber": line,
        "Active": True,
        "RecordType": record_type,
        "Количество": float(values.pop("Количество", 0)),
        "ХозяйственнаяОперация_Key": EMPTY_GUID,
    }
    for dimension in STOCK_DIMENSIONS:
        record[dimension] = values.get(dimension, EMPTY_GUID)
    return record


def _movements(entity_set: EntitySet, document: dict[str, Any]) -> list[dict[str, Any]]:
    rule = _STOCK_EXPENSE.get(entity_set.name)
    if rule is None:
        return []
    section, warehouse_field = rule
    return [
        stock_record(
            document["Ref_Key"],
            f"StandardODATA.{entity_set.name}",
            document.get("Date", ""),
            index,
            "Expense",
            Организация_Key=document.get("Организация_Key", EMPTY_GUID),
            Номенклатура_Key=row.get("Номенклатура_Key", EMPTY_GUID),
            Характеристика_Key=row.get("Характеристика_Key", EMPTY_GUID),
            Партия_Key=row.get("Партия_Key", EMPTY_GUID),
            СтруктурнаяЕдиница_Key=document.get(warehouse_field, EMPTY_GUID),
            Количество=row.get("Количество", 0),
        )
        for index, row in enumerate(document.get(section, []), start=1)
    ]


def remove_movements(store: Store, recorder: str) -> None:
    store.stock_records[:] = [r for r in store.stock_records if r["Recorder"] != recorder]


def post(writer: ObjectWriter, entity_set: EntitySet, document: dict[str, Any]) -> dict[str, Any]:
    if document.get("DeletionMark"):
        # The platform refuses to post a document marked for deletion; the exact text is unrecorded.
        raise ODataError(
            500,
            "-1",
            "Ошибка при выполнении обработчика - 'ОбработкаПроведения': "
            "Помеченный на удаление документ не может быть проведен",
        )
    remove_movements(writer.store, document["Ref_Key"])
    writer.store.stock_records.extend(_movements(entity_set, document))
    return writer.touch(entity_set, document, Posted=True)


def unpost(writer: ObjectWriter, entity_set: EntitySet, document: dict[str, Any]) -> dict[str, Any]:
    remove_movements(writer.store, document["Ref_Key"])
    return writer.touch(entity_set, document, Posted=False)
