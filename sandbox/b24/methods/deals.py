"""crm.deal.* (+ product rows, contacts, user fields) and crm.item.* for deals (entityTypeId 2)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sandbox.b24 import clock, crm_entity, errors, numbers, query
from sandbox.b24.fields import F
from sandbox.b24.methods import statuses
from sandbox.b24.registry import Call, Result, method
from sandbox.b24.state import Portal

DEAL = crm_entity.crm_spec(
    "deal",
    "deals",
    [
        F("ID", "integer", "ID", read_only=True),
        F("TITLE", "string", "Название"),
        F("TYPE_ID", "crm_status", "Тип", status_type="DEAL_TYPE"),
        F("CATEGORY_ID", "crm_category", "Воронка", immutable=True),
        F("STAGE_ID", "crm_status", "Стадия сделки", status_type="DEAL_STAGE"),
        F("STAGE_SEMANTIC_ID", "string", "Группа стадии", read_only=True),
        F("IS_NEW", "char", "Новая сделка", read_only=True),
        F("IS_RECURRING", "char", "Регулярная сделка"),
        F("IS_RETURN_CUSTOMER", "char", "Повторная сделка"),
        F("IS_REPEATED_APPROACH", "char", "Повторное обращение"),
        F("PROBABILITY", "integer", "Вероятность"),
        F("CURRENCY_ID", "crm_currency", "Валюта"),
        F("OPPORTUNITY", "double", "Сумма"),
        F("IS_MANUAL_OPPORTUNITY", "char", "Сумма заполняется вручную"),
        F("TAX_VALUE", "double", "Ставка налога"),
        F("COMPANY_ID", "crm_company", "Компания", settings={"parentEntityTypeId": 4}),
        F("CONTACT_ID", "crm_contact", "Контакт", deprecated=True),
        F("CONTACT_IDS", "crm_contact", "Контакты", multiple=True),
        F("QUOTE_ID", "crm_quote", "Предложение", read_only=True, settings={"parentEntityTypeId": 7}),
        F("BEGINDATE", "date", "Дата начала"),
        F("CLOSEDATE", "date", "Дата завершения"),
        F("OPENED", "char", "Доступна для всех"),
        F("CLOSED", "char", "Закрыта"),
        F("COMMENTS", "string", "Комментарий"),
        F("ASSIGNED_BY_ID", "user", "Ответственный"),
        F("CREATED_BY_ID", "user", "Кем создана", read_only=True),
        F("MODIFY_BY_ID", "user", "Кем изменена", read_only=True),
        F("MOVED_BY_ID", "user", "Кем передвинута", read_only=True),
        F("DATE_CREATE", "datetime", "Дата создания", read_only=True),
        F("DATE_MODIFY", "datetime", "Дата изменения", read_only=True),
        F("MOVED_TIME", "datetime", "Дата перемещения", read_only=True),
        F("SOURCE_ID", "crm_status", "Источник", status_type="SOURCE"),
        F("SOURCE_DESCRIPTION", "string", "Дополнительно об источнике"),
        F("LEAD_ID", "crm_lead", "Лид", read_only=True, settings={"parentEntityTypeId": 1}),
        F("ADDITIONAL_INFO", "string", "Дополнительная информация"),
        F("LOCATION_ID", "location", "Местоположение"),
        F("ORIGINATOR_ID", "string", "Внешний источник"),
        F("ORIGIN_ID", "string", "Идентификатор элемента во внешнем источнике"),
        F("UTM_SOURCE", "string", "Рекламная система"),
        F("UTM_MEDIUM", "string", "Тип трафика"),
        F("UTM_CAMPAIGN", "string", "Обозначение рекламной кампании"),
        F("UTM_CONTENT", "string", "Содержание кампании"),
        F("UTM_TERM", "string", "Условие поиска кампании"),
        F("LAST_ACTIVITY_TIME", "datetime", "Последняя активность", read_only=True),
        F("LAST_ACTIVITY_BY", "user", "Автор последней активности", read_only=True),
    ],
)


def _stage_semantic(portal: Portal, category_id: int, stage_id: str) -> str:
    stage = statuses.find_stage(portal, category_id, stage_id)
    semantics = stage.get("SEMANTICS") if stage else None
    return {"S": "S", "F": "F"}.get(semantics or "", "P")


CONTACTS = crm_entity.Binding(DEAL, other="contact", key="CONTACT_ID", slot="_contacts")


def _apply_contacts(record: dict[str, Any], contact_ids: Any) -> None:
    ids = contact_ids if isinstance(contact_ids, list) else [contact_ids]
    found = (numbers.digits(str(c).strip()) for c in ids)
    CONTACTS.set_ids(record, [c for c in found if c is not None and c > 0])


def _set_stage(call: Call, record: dict[str, Any], stage_id: Any) -> None:
    category_id = int(record.get("CATEGORY_ID") or 0)
    stage_text = str(stage_id) if stage_id not in (None, "") else None
    if stage_text is None:
        stage_text = statuses.first_stage(call.portal, category_id)
    elif statuses.find_stage(call.portal, category_id, stage_text) is None:
        raise errors.legacy(f"Stage '{stage_text}' does not belong to the deal's funnel {category_id}.")
    if record.get("STAGE_ID") != stage_text:
        record["MOVED_TIME"] = crm_entity.now_text(call.portal)
        record["MOVED_BY_ID"] = call.user_id
    record["STAGE_ID"] = stage_text
    semantic = _stage_semantic(call.portal, category_id, stage_text)
    record["STAGE_SEMANTIC_ID"] = semantic
    # Closing on final stages is what the UI shows; README §12 marks it unconfirmed for REST.
    record["CLOSED"] = "Y" if semantic in ("S", "F") else "N"


def create_deal(call: Call, fields: Mapping[str, Any]) -> int:
    portal = call.portal
    tz = portal.config.tz
    table = portal.table("deals")
    deal_id = table.next_id  # consumed only once the deal is valid
    today = clock.now(tz)
    record: dict[str, Any] = {
        "ID": deal_id,
        "TITLE": None,
        "TYPE_ID": "SALE",
        "CATEGORY_ID": 0,
        "IS_NEW": "Y",
        "IS_RECURRING": "N",
        "IS_RETURN_CUSTOMER": "N",
        "IS_REPEATED_APPROACH": "N",
        "CURRENCY_ID": "RUB",
        "OPPORTUNITY": 0.0,
        "IS_MANUAL_OPPORTUNITY": "N",
        "TAX_VALUE": 0.0,
        "BEGINDATE": clock.as_date_text(today, tz),
        "CLOSEDATE": clock.as_date_text(today + timedelta(days=7), tz),
        "OPENED": "Y",
        "CLOSED": "N",
        "ASSIGNED_BY_ID": None,
        "_contacts": [],
    }
    upper = {str(k).upper(): v for k, v in fields.items()}
    crm_entity.apply_fields(call, DEAL, record, upper, creating=True)
    category_id = record.get("CATEGORY_ID") or 0
    # A list sent as CATEGORY_ID stays one after normalizing: no category either.
    if not isinstance(category_id, int) or statuses.category(portal, category_id) is None:
        raise errors.legacy(f"Category ID {category_id} is not found.")
    record["CATEGORY_ID"] = category_id
    if not record.get("TITLE"):
        record["TITLE"] = f"Сделка #{deal_id}"
    if "CONTACT_IDS" in upper:
        _apply_contacts(record, upper["CONTACT_IDS"])
    elif upper.get("CONTACT_ID"):
        _apply_contacts(record, [upper["CONTACT_ID"]])
    crm_entity.stamp_create(call, record)
    record["MOVED_TIME"] = record["DATE_CREATE"]
    record["MOVED_BY_ID"] = call.user_id
    record["LAST_ACTIVITY_TIME"] = record["DATE_CREATE"]
    record["LAST_ACTIVITY_BY"] = call.user_id
    _set_stage(call, record, upper.get("STAGE_ID"))
    table.new_id()
    table.put(deal_id, record)
    crm_entity.emit(call, DEAL, "ADD", deal_id)
    return deal_id


def update_deal(call: Call, deal_id: int, fields: Mapping[str, Any]) -> None:
    record = crm_entity.load(call, DEAL, deal_id)
    upper = {str(k).upper(): v for k, v in fields.items()}
    crm_entity.apply_fields(call, DEAL, record, upper, creating=False)
    if "STAGE_ID" in upper:
        _set_stage(call, record, upper["STAGE_ID"])
    if "CONTACT_IDS" in upper:
        _apply_contacts(record, upper["CONTACT_IDS"])
    elif "CONTACT_ID" in upper:
        _apply_contacts(record, [upper["CONTACT_ID"]] if upper["CONTACT_ID"] else [])
    record["IS_NEW"] = "N"
    crm_entity.stamp_update(call, record)
    crm_entity.emit(call, DEAL, "UPDATE", deal_id)


def _add(call: Call) -> int:
    return create_deal(call, call.fields())


def _update(call: Call) -> bool:
    deal_id = crm_entity.require_id(call)
    fields = call.fields()
    params = call.param("params")
    if params is not None and not isinstance(params, Mapping):
        raise errors.legacy("Parameter 'params' must be array.")
    update_deal(call, deal_id, fields)
    return True


def _delete_rows(call: Call, deal_id: int) -> None:
    rows = call.portal.table("product_rows")
    for row in rows.values():
        if row["OWNER_TYPE"] == "D" and row["OWNER_ID"] == deal_id:
            rows.delete(row["ID"])


crm_entity.register(DEAL, add=_add, update=_update, cascade_delete=_delete_rows, bindings=(CONTACTS,))


# -- product rows ------------------------------------------------------------------------------
def _number(value: Any, default: float) -> float:
    number = numbers.finite(value)
    return default if number is None else number


def _price_row(call: Call, deal_id: int, index: int, row: Mapping[str, Any]) -> dict[str, Any]:
    row = {str(k).upper(): v for k, v in row.items()}
    product_id = int(_number(row.get("PRODUCT_ID"), 0))
    price = _number(row.get("PRICE"), 0.0)
    quantity = _number(row.get("QUANTITY"), 1.0)
    discount_type = int(_number(row.get("DISCOUNT_TYPE_ID"), 2))
    rate = _number(row.get("DISCOUNT_RATE"), 0.0)
    discount_sum = row.get("DISCOUNT_SUM")
    if discount_type == 2 and rate >= 100 and discount_sum in (None, ""):
        raise errors.core(
            "Discount Sum (DISCOUNT_SUM) is required if Percentage Discount Type (DISCOUNT_TYPE_ID) "
            "is defined and Discount Rate (DISCOUNT_RATE) is 100%<br>"
        )
    if discount_type == 1:
        dsum = _number(discount_sum, 0.0)
        netto = price + dsum
        rate = round(dsum / netto * 100, 2) if netto else 0.0
    else:
        netto = price / (1 - rate / 100) if rate < 100 else _number(discount_sum, 0.0)
        dsum = netto - price
    tax_rate = row.get("TAX_RATE")
    tax = _number(tax_rate, 0.0)
    tax_included = "Y" if str(row.get("TAX_INCLUDED", "N")).upper() == "Y" else "N"
    exclusive = price / (1 + tax / 100) if tax_included == "Y" else price
    brutto = netto if tax_included == "Y" else netto * (1 + tax / 100)
    name = row.get("PRODUCT_NAME")
    product = call.portal.table("products").get(product_id) if product_id else None
    if not name and product is not None:
        name = product["name"]
    rows_table = call.portal.table("product_rows")
    row_id = rows_table.new_id()
    return {
        "ID": row_id,
        "OWNER_ID": deal_id,
        "OWNER_TYPE": "D",
        "PRODUCT_ID": product_id,
        "PRODUCT_NAME": str(name) if name else f"[{row_id}]",
        "ORIGINAL_PRODUCT_NAME": product["name"] if product else (str(name) if name else f"[{row_id}]"),
        "PRODUCT_DESCRIPTION": row.get("PRODUCT_DESCRIPTION"),
        "PRICE": round(price, 2),
        "PRICE_EXCLUSIVE": round(exclusive, 2),
        "PRICE_NETTO": round(netto, 2),
        "PRICE_BRUTTO": round(brutto, 2),
        "PRICE_ACCOUNT": f"{price:.2f}",
        "QUANTITY": quantity,
        "DISCOUNT_TYPE_ID": discount_type,
        "DISCOUNT_RATE": round(rate, 2),
        "DISCOUNT_SUM": round(dsum, 2),
        "TAX_RATE": None if tax_rate in (None, "") else tax,
        "TAX_INCLUDED": tax_included,
        "CUSTOMIZED": "Y",
        "MEASURE_CODE": int(_number(row.get("MEASURE_CODE"), 796)),
        "MEASURE_NAME": str(row.get("MEASURE_NAME") or "шт"),
        "SORT": int(_number(row.get("SORT"), (index + 1) * 10)),
        "XML_ID": row.get("XML_ID"),
        "TYPE": int(product.get("type", 1)) if product else 1,
        "STORE_ID": int(_number(row.get("STORE_ID"), 0)),
        "RESERVE_ID": None,
        "DATE_RESERVE_END": None,
        "RESERVE_QUANTITY": 0,
    }


def _render_product_row(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["ID"], out["OWNER_ID"] = str(row["ID"]), str(row["OWNER_ID"])
    for key in ("PRICE", "PRICE_EXCLUSIVE", "PRICE_NETTO", "PRICE_BRUTTO", "QUANTITY", "DISCOUNT_SUM"):
        value = out[key]
        if isinstance(value, float) and value.is_integer():
            out[key] = int(value)
    return out


def deal_rows(portal: Portal, deal_id: int) -> list[dict[str, Any]]:
    rows = [
        r
        for r in portal.table("product_rows").values()
        if r["OWNER_TYPE"] == "D" and r["OWNER_ID"] == deal_id
    ]
    return sorted(rows, key=lambda r: (r["SORT"], r["ID"]))


@method("crm.deal.productrows.get")
def productrows_get(call: Call) -> list[dict[str, Any]]:
    deal_id = crm_entity.require_id(call, "The parameter id is invalid or not defined.")
    crm_entity.load(call, DEAL, deal_id)
    return [_render_product_row(r) for r in deal_rows(call.portal, deal_id)]


@method("crm.deal.productrows.set")
def productrows_set(call: Call) -> bool:
    deal_id = crm_entity.require_id(call, "The parameter id is invalid or not defined.")
    record = crm_entity.load(call, DEAL, deal_id)
    rows = call.param("rows") or []
    rows = list(rows.values()) if isinstance(rows, Mapping) else rows
    if not isinstance(rows, list):
        raise errors.legacy("The parameter rows must be array.")
    prepared = [_price_row(call, deal_id, i, r) for i, r in enumerate(rows) if isinstance(r, Mapping)]
    table = call.portal.table("product_rows")
    for old in deal_rows(call.portal, deal_id):
        table.delete(old["ID"])
    for row in prepared:
        table.put(row["ID"], row)
    if record.get("IS_MANUAL_OPPORTUNITY") != "Y":
        # With a non-manual amount the deal sum follows its rows (README §4.2).
        record["OPPORTUNITY"] = round(sum(r["PRICE"] * r["QUANTITY"] for r in prepared), 2)
    crm_entity.stamp_update(call, record)
    crm_entity.emit(call, DEAL, "UPDATE", deal_id)
    return True


# -- crm.item.* for deals ----------------------------------------------------------------------
def _camel(name: str) -> str:
    if name.startswith("UF_CRM_"):
        rest = name[len("UF_CRM_") :]
        if rest[:1].isdigit():
            return "ufCrm_" + rest
        return "ufCrm" + "".join(p.capitalize() for p in rest.lower().split("_"))
    head, *tail = name.lower().split("_")
    return head + "".join(p.capitalize() for p in tail)


_CAMEL_ALIASES = {"CONTACT_IDS": "contactIds", "BEGINDATE": "begindate", "CLOSEDATE": "closedate"}


def _camel_map(portal: Portal) -> dict[str, str]:
    names = list(DEAL.fields) + list(crm_entity.userfields(portal, DEAL))
    return {_CAMEL_ALIASES.get(n, _camel(n)): n for n in names}


def _item_value(fd_type: str | None, value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and fd_type not in ("double", "money"):
        return int(value)
    return value


def render_item(portal: Portal, record: Mapping[str, Any]) -> dict[str, Any]:
    mapping = _camel_map(portal)
    item: dict[str, Any] = {}
    for camel, legacy in mapping.items():
        if legacy == "CONTACT_IDS":
            item[camel] = [link["CONTACT_ID"] for link in record.get("_contacts", [])]
            continue
        fd = DEAL.fields.get(legacy)
        item[camel] = _item_value(fd.type if fd else None, record.get(legacy))
    item["entityTypeId"] = 2
    return item


def _entity_type(call: Call) -> int:
    raw = call.param("entitytypeid")
    if str(raw) != "2":
        raise errors.B24Error("NOT_FOUND", "Smart process not found", 400)
    return 2


def _item_fields(call: Call) -> dict[str, Any]:
    fields = call.param("fields")
    if not isinstance(fields, Mapping):
        raise errors.missing_argument("fields")
    mapping = _camel_map(call.portal)
    upper_names = set(mapping.values())
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key in mapping:
            out[mapping[key]] = value
        elif str(key).upper() in upper_names:
            out[str(key).upper()] = value
    return out


def _item_id(call: Call) -> int:
    found = numbers.digits(call.param("id") or "")
    if found is None:
        raise errors.missing_argument("id")
    return found


def _item_record(call: Call, item_id: int) -> dict[str, Any]:
    record = call.portal.table("deals").get(item_id)
    if record is None:
        raise errors.B24Error("NOT_FOUND", "Element not found", 400)
    return record


@method("crm.item.get")
def item_get(call: Call) -> dict[str, Any]:
    _entity_type(call)
    return {"item": render_item(call.portal, _item_record(call, _item_id(call)))}


@method("crm.item.add")
def item_add(call: Call) -> dict[str, Any]:
    _entity_type(call)
    deal_id = create_deal(call, _item_fields(call))
    return {"item": render_item(call.portal, _item_record(call, deal_id))}


@method("crm.item.update")
def item_update(call: Call) -> dict[str, Any]:
    """Unlike crm.deal.update this may change the funnel; a move fires ONCRMDEALMOVETOCATEGORY only."""
    _entity_type(call)
    deal_id = _item_id(call)
    record = _item_record(call, deal_id)
    fields = _item_fields(call)
    new_category = fields.pop("CATEGORY_ID", None)
    current = int(record["CATEGORY_ID"])
    category_id = current if new_category in (None, "") else numbers.digits(new_category)
    if category_id is None:
        raise errors.B24Error("NOT_FOUND", f"Category {new_category} not found", 400)
    moving = category_id != current
    if moving:
        if statuses.category(call.portal, category_id) is None:
            raise errors.B24Error("NOT_FOUND", f"Category {category_id} not found", 400)
        stage = fields.pop("STAGE_ID", None) or statuses.first_stage(call.portal, category_id)
        events_before = len(call.events)
        record["CATEGORY_ID"] = category_id
        _set_stage(call, record, stage)
        if fields:
            update_deal(call, deal_id, fields)
            del call.events[events_before:]
        crm_entity.stamp_update(call, record)
        call.emit(
            "ONCRMDEALMOVETOCATEGORY",
            {"ID": str(deal_id), "CATEGORY_ID": str(category_id), "STAGE_ID": record["STAGE_ID"]},
        )
    else:
        update_deal(call, deal_id, fields)
    return {"item": render_item(call.portal, record)}


@method("crm.item.list")
def item_list(call: Call) -> Result:
    _entity_type(call)
    portal = call.portal
    mapping = _camel_map(portal)

    def to_legacy(name: str) -> str:
        return mapping.get(name, name.upper())

    kind_of = crm_entity.kind_resolver(portal, DEAL)
    rows = list(portal.table("deals").values())
    conditions = query.parse_filter(call.param("filter"), to_legacy)
    rows = query.apply_filter(rows, conditions, kind_of, portal.config.tz)
    ordering = query.parse_order(call.param("order"), to_legacy) or [("ID", False)]
    rows = query.apply_order(rows, ordering, kind_of, portal.config.tz)
    page = query.paginate(rows, query.parse_start(call.param("start")))
    select = call.param("select")
    items = [render_item(portal, r) for r in page.rows]
    if isinstance(select, list) and select and "*" not in select:
        wanted = {str(s) for s in select} | {"id"}
        items = [{k: v for k, v in item.items() if k in wanted} for item in items]
    return Result({"items": items}, page.total, page.next)


@method("crm.item.delete")
def item_delete(call: Call) -> list[Any]:
    _entity_type(call)
    deal_id = _item_id(call)
    _item_record(call, deal_id)
    call.raw = {"id": deal_id}
    crm_entity.delete_record(call, DEAL, _delete_rows)
    return []
