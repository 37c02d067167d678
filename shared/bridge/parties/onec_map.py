"""1C side of the mapping: `Catalog_Контрагенты` / `Catalog_КонтактныеЛица` rows ⇄ neutral state.

Only the fields being written go into a PATCH; a tabular section (contact information,
additional attributes) is rebuilt whole because 1C replaces it whole, keeping the rows the bridge
does not manage (web pages, Skype, other attributes) as they were.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bridge.config.parties import PartyField as P
from bridge.config.parties import PersonField as C
from bridge.domain.counterparty import EMPTY_GUID, CounterpartyKind
from bridge.domain.phones import Owner
from bridge.onec.odata import renumber_rows
from bridge.parties.resolved import PartiesResolved
from bridge.parties.state import State, Value, address, address_text, clean_text, fit, texts

PHONE = "Телефон"
EMAIL = "АдресЭлектроннойПочты"
ADDRESS = "Адрес"
_DESCRIPTION_MAX = 100
_POSITION_MAX = 50
# 1C lengths of the texts Bitrix24 may hold longer: cut only on the way into 1C (merge `limits`).
LIMITS: dict[str, int] = {P.NAME: _DESCRIPTION_MAX, C.POST: _POSITION_MAX}
# Fields a private person does not have in Bitrix24 (a contact has no full name, KPP, OKPO, OKOPF).
PERSON_ONLY_BLANK = (P.FULL_NAME, P.KPP, P.OKPO, P.OKOPF, P.SCHEDULE)


def _ref(value: Any) -> str:
    text = str(value or "").strip().lower()
    return "" if text in ("", EMPTY_GUID) else text


def _rows(row: Mapping[str, Any], section: str) -> list[dict[str, Any]]:
    return [dict(r) for r in row.get(section) or [] if isinstance(r, Mapping)]


def _address_kinds(resolved: PartiesResolved) -> dict[str, str]:
    kinds = {
        P.LEGAL_ADDRESS: resolved.legal_address_kind,
        P.ACTUAL_ADDRESS: resolved.actual_address_kind,
        P.POSTAL_ADDRESS: resolved.postal_address_kind,
    }
    return {field: ref for field, ref in kinds.items() if ref}


def _attribute(row: Mapping[str, Any], prop: str | None) -> str:
    if not prop:
        return ""
    for line in _rows(row, "ДополнительныеРеквизиты"):
        if _ref(line.get("Свойство_Key")) == prop:
            return clean_text(line.get("Значение") or line.get("ТекстоваяСтрока"))
    return ""


_XML_POSTAL = re.compile(r'ТипАдрЭл="10100000"\s+Значение="(\d+)"')


def _postal_code(row: Mapping[str, Any]) -> str:
    """The index from the newer JSON `Значение` (`ZIPcode`) or the older `ЗначенияПолей` XML
    (`ДопАдрЭл ТипАдрЭл="10100000"`), reference onec examples/selectchanges; "" when neither has one."""
    raw = row.get("Значение")
    if isinstance(raw, str) and raw.strip().startswith("{"):
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("ZIPcode"):
            return clean_text(data["ZIPcode"])
    match = _XML_POSTAL.search(str(row.get("ЗначенияПолей") or ""))
    return match.group(1) if match else ""


def _address(row: Mapping[str, Any]) -> Value:
    return address(
        row.get("Представление"),
        postal=_postal_code(row),
        region=row.get("Регион"),
        city=row.get("Город"),
        country=row.get("Страна"),
    )


def _relation(row: Mapping[str, Any]) -> str:
    buyer, supplier = bool(row.get("Покупатель")), bool(row.get("Поставщик"))
    return "both" if buyer and supplier else "buyer" if buyer else "supplier" if supplier else ""


def kind_of(row: Mapping[str, Any]) -> CounterpartyKind:
    try:
        return CounterpartyKind(str(row.get("ВидКонтрагента") or ""))
    except ValueError:
        return CounterpartyKind.LEGAL_ENTITY  # ГосударственныйОрган and the like travel as organizations


def counterparty_state(row: Mapping[str, Any], resolved: PartiesResolved) -> State:
    kind = kind_of(row)
    info = _rows(row, "КонтактнаяИнформация")
    state: State = {
        P.KIND: kind.value,
        P.NAME: clean_text(row.get("Description")),
        P.FULL_NAME: clean_text(row.get("НаименованиеПолное")),
        P.INN: clean_text(row.get("ИНН")),
        P.KPP: clean_text(row.get("КПП")),
        P.OKPO: clean_text(row.get("КодПоОКПО")),
        P.OKOPF: _attribute(row, resolved.okopf_property),
        P.SCHEDULE: _attribute(row, resolved.schedule_property),
        P.COMMENT: str(row.get("Комментарий") or "").strip(),
        P.RELATION: _relation(row),
        P.PHONES: texts(r.get("Представление") for r in info if r.get("Тип") == PHONE),
        P.EMAILS: texts(r.get("АдресЭП") or r.get("Представление") for r in info if r.get("Тип") == EMAIL),
        P.RESPONSIBLE: _ref(row.get("Ответственный_Key")),
    }
    kinds = _address_kinds(resolved)
    for field in (P.LEGAL_ADDRESS, P.ACTUAL_ADDRESS, P.POSTAL_ADDRESS):
        found = next((r for r in info if field in kinds and _ref(r.get("Вид_Key")) == kinds[field]), None)
        state[field] = _address(found) if found else ()
    if kind is CounterpartyKind.PRIVATE_PERSON:
        for field in PERSON_ONLY_BLANK:
            state[field] = ""
    return state


def _info_row(kind: str, kind_ref: str | None, text: str, **extra: str) -> dict[str, Any]:
    row: dict[str, Any] = {"Тип": kind, "Представление": text}
    if kind_ref:
        row["Вид_Key"] = kind_ref
    if kind == PHONE:
        row["НомерТелефона"] = text[:20]
    elif kind == EMAIL:
        row["АдресЭП"] = text
    row.update({k: v for k, v in extra.items() if v})
    return row


def _rebuilt_info(
    current: list[dict[str, Any]],
    replace: Mapping[str, tuple[str, list[dict[str, Any]]]],
    address_kinds: Mapping[str, str],
) -> list[dict[str, Any]]:
    """`replace`: group → (how to recognise its rows, new rows). Rows of other groups are kept."""

    def group_of(row: Mapping[str, Any]) -> str | None:
        for field, kind_ref in address_kinds.items():
            if _ref(row.get("Вид_Key")) == kind_ref:
                return field
        for group, (kind, _) in replace.items():
            if group not in address_kinds and row.get("Тип") == kind:
                return group
        return None

    kept: list[dict[str, Any]] = []
    for row in current:
        group = group_of(row)
        if group in replace:
            continue
        kept.append({k: v for k, v in row.items() if k != "LineNumber"})
    for _, rows in replace.values():
        kept.extend(rows)
    return renumber_rows(kept)


def _attributes(current: list[dict[str, Any]], values: Mapping[str, str]) -> list[dict[str, Any]]:
    rows = [{k: v for k, v in r.items() if k != "LineNumber"} for r in current]
    for prop, value in values.items():
        rows = [r for r in rows if _ref(r.get("Свойство_Key")) != prop]
        rows.append(
            {"Свойство_Key": prop, "Значение": value, "Значение_Type": "Edm.String", "ТекстоваяСтрока": ""}
        )
    return renumber_rows(rows)


def phone_types(row: Mapping[str, Any], owner: Owner, resolved: PartiesResolved) -> dict[str, str]:
    """Phone text → the Bitrix24 VALUE_TYPE its 1C kind maps to (`[phones]`)."""
    kinds = resolved.phone_kinds
    return {
        clean_text(r.get("Представление")): kinds.type_for(owner, _ref(r.get("Вид_Key")))
        for r in _rows(row, "КонтактнаяИнформация")
        if r.get("Тип") == PHONE and clean_text(r.get("Представление"))
    }


def counterparty_patch(
    changes: Mapping[str, Value],
    current: Mapping[str, Any],
    resolved: PartiesResolved,
    b24_types: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """PATCH body writing `changes` (non-empty values only) onto the counterparty `current`.
    `b24_types`: phone text → its Bitrix24 VALUE_TYPE, which picks the 1C kind (`[phones]`)."""
    body: dict[str, Any] = {}
    simple = {P.NAME: "Description", P.FULL_NAME: "НаименованиеПолное", P.INN: "ИНН", P.KPP: "КПП"}
    simple |= {P.OKPO: "КодПоОКПО", P.COMMENT: "Комментарий", P.KIND: "ВидКонтрагента"}
    simple |= {P.RESPONSIBLE: "Ответственный_Key"}
    for field, name in simple.items():
        if field in changes:
            value = str(changes[field])
            body[name] = str(fit(value, _DESCRIPTION_MAX)) if name == "Description" else value
    name_text = str(changes.get(P.NAME) or "")
    # Description keeps 100 characters; the full text goes where it fits, unless a full name is set.
    too_long = len(name_text) > _DESCRIPTION_MAX and P.FULL_NAME not in changes
    if too_long and not clean_text(current.get("НаименованиеПолное")):
        body["НаименованиеПолное"] = name_text
    relation = changes.get(P.RELATION)
    if relation in ("buyer", "supplier", "both"):
        # Both flags always: one left over would read back as another relation and undo the change.
        body["Покупатель"] = relation in ("buyer", "both")
        body["Поставщик"] = relation in ("supplier", "both")
    replace: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    kinds = _address_kinds(resolved)
    for address_field, kind_ref in kinds.items():
        if address_field in changes:
            parts = changes[address_field]
            _, region, city, _, country = (*parts, "", "", "", "", "")[:5]
            line = _info_row(
                ADDRESS, kind_ref, address_text(parts), Регион=region, Город=city, Страна=country
            )
            replace[address_field] = (ADDRESS, [line])
    if P.PHONES in changes:
        types = b24_types or {}
        replace[P.PHONES] = (
            PHONE,
            [
                _info_row(PHONE, resolved.phone_kinds.kind_for("counterparty", types.get(v)), v)
                for v in changes[P.PHONES]
            ],
        )
    if P.EMAILS in changes:
        replace[P.EMAILS] = (EMAIL, [_info_row(EMAIL, resolved.email_kind, v) for v in changes[P.EMAILS]])
    if replace:
        body["КонтактнаяИнформация"] = _rebuilt_info(_rows(current, "КонтактнаяИнформация"), replace, kinds)
    attributes: dict[str, str] = {}
    if P.OKOPF in changes and resolved.okopf_property:
        attributes[resolved.okopf_property] = str(changes[P.OKOPF])
    if P.SCHEDULE in changes and resolved.schedule_property:
        attributes[resolved.schedule_property] = str(changes[P.SCHEDULE])
    if attributes:
        body["ДополнительныеРеквизиты"] = _attributes(_rows(current, "ДополнительныеРеквизиты"), attributes)
    return body


def counterparty_create_body(
    state: Mapping[str, Value], resolved: PartiesResolved, b24_types: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """POST body of a new counterparty in the configured folder (§2.2.12.9)."""
    kind = str(state.get(P.KIND) or CounterpartyKind.LEGAL_ENTITY.value)
    body = counterparty_patch({k: v for k, v in state.items() if v}, {}, resolved, b24_types)
    body["ВидКонтрагента"] = kind
    if kind == CounterpartyKind.PRIVATE_PERSON.value:
        body.setdefault("НаименованиеПолное", body.get("Description", ""))
        body["ФИО"] = body.get("Description", "")
    if "Покупатель" not in body and "Поставщик" not in body:
        body["Покупатель"] = True
    if resolved.counterparty_folder:
        body["Parent_Key"] = resolved.counterparty_folder
    return body


# --- contact persons ---------------------------------------------------------------------------


def person_state(row: Mapping[str, Any], resolved: PartiesResolved) -> State:
    info = _rows(row, "КонтактнаяИнформация")
    kinds = resolved.phone_kinds
    phones = [r for r in info if r.get("Тип") == PHONE]
    mobile = [r for r in phones if kinds.type_for("person", _ref(r.get("Вид_Key"))) == "MOBILE"]
    return {
        C.NAME: clean_text(row.get("Description")),
        C.POST: clean_text(row.get("Должность")),
        C.COMMENT: str(row.get("Комментарий") or "").strip(),
        C.WORK_PHONES: texts(r.get("Представление") for r in phones if r not in mobile),
        C.MOBILE_PHONES: texts(r.get("Представление") for r in mobile),
        C.EMAILS: texts(r.get("АдресЭП") or r.get("Представление") for r in info if r.get("Тип") == EMAIL),
        C.OWNER: _ref(row.get("Owner_Key")),
        C.ROLE: _role(row, resolved),
    }


def _role(row: Mapping[str, Any], resolved: PartiesResolved) -> str:
    """The contact TYPE_ID the first `Роли` row's role maps to; "" for a role not in the map."""
    roles = sorted(_rows(row, "Роли"), key=lambda r: int(r.get("LineNumber") or 0))
    if not roles:
        return ""
    first = _ref(roles[0].get("Роль_Key"))
    return next((t for t, ref in resolved.contact_roles.items() if ref == first), "")


def person_patch(
    changes: Mapping[str, Value],
    current: Mapping[str, Any],
    resolved: PartiesResolved,
    b24_types: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if C.NAME in changes:
        body["Description"] = str(fit(str(changes[C.NAME]), _DESCRIPTION_MAX))
    if C.POST in changes:
        body["Должность"] = str(fit(str(changes[C.POST]), _POSITION_MAX))
    if C.COMMENT in changes:
        body["Комментарий"] = str(changes[C.COMMENT])
    if C.OWNER in changes:
        body["Owner_Key"] = str(changes[C.OWNER])
    role = resolved.contact_roles.get(str(changes.get(C.ROLE) or ""))
    if role:
        # The first row is the contact's type; roles outside the map stay, after it.
        mapped = set(resolved.contact_roles.values())
        rest = [
            {k: v for k, v in r.items() if k != "LineNumber"}
            for r in _rows(current, "Роли")
            if _ref(r.get("Роль_Key")) not in mapped
        ]
        body["Роли"] = renumber_rows([{"Роль_Key": role}, *rest])
    kinds, types = resolved.phone_kinds, b24_types or {}
    info = _rows(current, "КонтактнаяИнформация")
    touched = False
    if C.WORK_PHONES in changes or C.MOBILE_PHONES in changes:
        state = person_state(current, resolved)
        work = changes.get(C.WORK_PHONES, state[C.WORK_PHONES])
        mobiles = changes.get(C.MOBILE_PHONES, state[C.MOBILE_PHONES])
        info = [r for r in info if r.get("Тип") != PHONE]
        # A work-group phone keeps its own type's kind (HOME, FAX… when `[phones]` lists them).
        info += [_info_row(PHONE, kinds.kind_for("person", types.get(v, "WORK")), v) for v in work]
        info += [_info_row(PHONE, kinds.kind_for("person", "MOBILE"), v) for v in mobiles]
        touched = True
    if C.EMAILS in changes:
        info = [r for r in info if r.get("Тип") != EMAIL]
        info += [_info_row(EMAIL, resolved.person_email_kind, v) for v in changes[C.EMAILS]]
        touched = True
    if touched:
        body["КонтактнаяИнформация"] = renumber_rows(
            {k: v for k, v in r.items() if k != "LineNumber"} for r in info
        )
    return body


def person_create_body(
    state: Mapping[str, Value],
    owner_ref: str,
    resolved: PartiesResolved,
    b24_types: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    body = person_patch({k: v for k, v in state.items() if v}, {}, resolved, b24_types)
    body["Owner_Key"] = owner_ref
    return body


def descriptions(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return [clean_text(r.get("Description")) for r in rows]
