"""crm.status.* directories (stages, company/contact types) and crm.category.* funnels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.b24 import errors, numbers, query
from sandbox.b24.registry import Call, Result, method
from sandbox.b24.state import Portal

STATUS_ID_MAX = 21
_SEMANTIC_TEXT = {None: "process", "S": "success", "F": "failure"}
_COLORS = {None: "#39A8EF", "S": "#7BD500", "F": "#FF5752"}


def stage_entity(category_id: int) -> str:
    return "DEAL_STAGE" if category_id == 0 else f"DEAL_STAGE_{category_id}"


def stage_status_id(category_id: int, code: str) -> str:
    """Funnel N>0 prefixes `C{N}:`; the portal truncates STATUS_ID to 21 characters (README §4.3)."""
    full = code if category_id == 0 else f"C{category_id}:{code}"
    return full[:STATUS_ID_MAX]


def add_status(
    portal: Portal,
    entity_id: str,
    status_id: str,
    name: str,
    sort: int,
    *,
    system: bool = False,
    semantics: str | None = None,
    category_id: int | None = None,
) -> dict[str, Any]:
    table = portal.table("statuses")
    row_id = table.new_id()
    row = {
        "ID": row_id,
        "ENTITY_ID": entity_id,
        "STATUS_ID": status_id,
        "NAME": name,
        "NAME_INIT": name if system else "",
        "SORT": sort,
        "SYSTEM": "Y" if system else "N",
        "CATEGORY_ID": category_id,
        "COLOR": _COLORS[semantics],
        "SEMANTICS": semantics,
        "EXTRA": {"SEMANTICS": _SEMANTIC_TEXT[semantics], "COLOR": _COLORS[semantics]},
    }
    return table.put(row_id, row)


def category(portal: Portal, category_id: int) -> dict[str, Any] | None:
    return portal.table("categories").get(category_id)


def stages(portal: Portal, category_id: int) -> list[dict[str, Any]]:
    entity = stage_entity(category_id)
    rows = [r for r in portal.table("statuses").values() if r["ENTITY_ID"] == entity]
    return sorted(rows, key=lambda r: (int(r["SORT"]), int(r["ID"])))


def find_stage(portal: Portal, category_id: int, status_id: str) -> dict[str, Any] | None:
    return next((s for s in stages(portal, category_id) if s["STATUS_ID"] == status_id), None)


def first_stage(portal: Portal, category_id: int) -> str:
    found = stages(portal, category_id)
    if not found:
        raise errors.legacy(f"Funnel {category_id} has no stages.")
    return str(found[0]["STATUS_ID"])


def add_funnel(
    portal: Portal, category_id: int, name: str, sort: int, stage_list: list[tuple[str, str, str | None]]
) -> None:
    """stage_list: (code without prefix, name, semantics None/'S'/'F')."""
    row: dict[str, Any] = {
        "id": category_id,
        "name": name,
        "sort": sort,
        "entityTypeId": 2,
        "isDefault": "Y" if category_id == 0 else "N",
    }
    if category_id != 0:
        row |= {"originId": "", "originatorId": ""}
    portal.table("categories").put(category_id, row)
    portal.table("categories").next_id = max(portal.table("categories").next_id, category_id + 1)
    for index, (code, stage_name, semantics) in enumerate(stage_list):
        add_status(
            portal,
            stage_entity(category_id),
            stage_status_id(category_id, code),
            stage_name,
            (index + 1) * 10,
            system=code in ("NEW", "WON", "LOSE"),
            semantics=semantics,
            category_id=category_id if category_id else None,
        )


def _render_status(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["ID"], out["SORT"] = str(row["ID"]), str(row["SORT"])
    out["CATEGORY_ID"] = None if row["CATEGORY_ID"] is None else str(row["CATEGORY_ID"])
    return out


@method("crm.status.list")
def status_list(call: Call) -> Result:
    filter_ = call.param("filter")
    order = call.param("order")
    if (filter_ is not None and not isinstance(filter_, Mapping)) or (
        order is not None and not isinstance(order, Mapping)
    ):
        raise errors.B24Error("Invalid parameters.", "Incorrect parameters passed.", 400)

    def kind_of(name: str) -> str:
        return "number" if name in ("ID", "SORT", "CATEGORY_ID") else "string"

    portal = call.portal
    rows = list(portal.table("statuses").values())
    rows = query.apply_filter(rows, query.parse_filter(filter_, str.upper), kind_of, portal.config.tz)
    ordering = query.parse_order(order, str.upper) or [("SORT", False)]
    rows = query.apply_order(rows, ordering, kind_of, portal.config.tz)
    return Result([_render_status(r) for r in rows], len(rows))


@method("crm.status.entity.types")
def status_entity_types(call: Call) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for cat in sorted(call.portal.table("categories").values(), key=lambda c: c["id"]):
        cid = int(cat["id"])
        out.append(
            {
                "ID": stage_entity(cid),
                "NAME": f"Стадии сделки ({cat['name']})",
                "PARENT_ID": "DEAL_STAGE" if cid else None,
                "SEMANTIC_INFO": {
                    "START_FIELD": stage_status_id(cid, "NEW"),
                    "FINAL_SUCCESS_FIELD": stage_status_id(cid, "WON"),
                    "FINAL_UNSUCCESS_FIELD": stage_status_id(cid, "LOSE"),
                },
                "PREFIX": f"C{cid}" if cid else "",
                "ENTITY_TYPE_ID": 2,
                "CATEGORY_ID": cid,
            }
        )
    for entity, name in (("COMPANY_TYPE", "Тип компании"), ("CONTACT_TYPE", "Тип контакта")):
        out.append({"ID": entity, "NAME": name})
    return out


def _require_deal_entity(call: Call) -> None:
    if str(call.param("entitytypeid")) != "2":
        raise errors.B24Error("NOT_FOUND", "Smart process not found", 400)


@method("crm.category.list")
def category_list(call: Call) -> Result:
    _require_deal_entity(call)
    rows = sorted(call.portal.table("categories").values(), key=lambda c: (c["sort"], c["id"]))
    return Result({"categories": [dict(r) for r in rows]}, len(rows))


@method("crm.category.get")
def category_get(call: Call) -> dict[str, Any]:
    _require_deal_entity(call)
    found = category(call.portal, numbers.whole(call.param("id"), -1))
    if found is None:
        raise errors.B24Error("NOT_FOUND", "Category not found", 400)
    return {"category": dict(found)}


DEFAULT_NEW_FUNNEL_STAGES: list[tuple[str, str, str | None]] = [
    ("NEW", "Новая", None),
    ("PREPARATION", "Подготовка документов", None),
    ("PREPAYMENT_INVOICE", "Счёт на предоплату", None),
    ("EXECUTING", "В работе", None),
    ("FINAL_INVOICE", "Финальный счёт", None),
    ("WON", "Сделка успешна", "S"),
    ("LOSE", "Сделка провалена", "F"),
    ("APOLOGY", "Анализ причины провала", "F"),
]


@method("crm.category.add")
def category_add(call: Call) -> dict[str, Any]:
    _require_deal_entity(call)
    fields = call.param("fields")
    if not isinstance(fields, Mapping) or not fields.get("name"):
        raise errors.missing_argument("fields")
    table = call.portal.table("categories")
    category_id = table.next_id
    add_funnel(
        call.portal,
        category_id,
        str(fields["name"]),
        numbers.whole(fields.get("sort"), 500),
        DEFAULT_NEW_FUNNEL_STAGES,
    )
    row = dict(table.get(category_id) or {})
    row.pop("originId", None)
    row.pop("originatorId", None)
    return {"category": row}
