"""Bitrix24 side of the mapping: company/contact + requisite + addresses ⇄ neutral state.

A company is a legal entity or a sole proprietor, a contact a private person or a counterparty's
contact person (§2.2.12.5, §2.2.13). The requisite (preset by kind) holds INN, KPP, OKPO and the
full name; addresses live on the requisite (type 6 legal, 1 actual, 8 postal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.config.parties import PartiesMapping
from bridge.config.parties import PartyField as P
from bridge.config.parties import PersonField as C
from bridge.domain.counterparty import CounterpartyKind
from bridge.domain.text import strip_markup
from bridge.parties.resolved import PartiesResolved
from bridge.parties.state import State, Value, address, clean_text, join_person_name, split_person_name, texts

ADDRESS_TYPES: dict[str, int] = {P.LEGAL_ADDRESS: 6, P.ACTUAL_ADDRESS: 1, P.POSTAL_ADDRESS: 8}
REQUISITE_OWNER = 8
ORIGINATOR = "unf-b24-bridge"


@dataclass(frozen=True)
class B24Party:
    """What Bitrix24 holds about one company or contact."""

    entity: str  # COMPANY | CONTACT
    record: dict[str, Any]
    requisite: dict[str, Any] | None = None
    addresses: tuple[dict[str, Any], ...] = field(default=())

    @property
    def id(self) -> int:
        return int(self.record["ID"])


def _multi(record: Mapping[str, Any], name: str, types: Sequence[str] | None = None) -> tuple[str, ...]:
    items = [m for m in record.get(name) or [] if isinstance(m, Mapping)]
    if types is not None:
        items = [m for m in items if str(m.get("VALUE_TYPE") or "").upper() in types]
    return texts(m.get("VALUE") for m in items)


def phone_types(record: Mapping[str, Any]) -> dict[str, str]:
    """Phone text → its VALUE_TYPE, which picks the 1C kind (`[phones]`)."""
    items = [m for m in record.get("PHONE") or [] if isinstance(m, Mapping)]
    return {
        clean_text(m.get("VALUE")): str(m.get("VALUE_TYPE") or "").upper() for m in items if m.get("VALUE")
    }


# The text parts of a requisite address (`crm.address`): what the flow reads and compares.
ADDRESS_PARTS = ("ADDRESS_1", "ADDRESS_2", "CITY", "POSTAL_CODE", "REGION", "PROVINCE", "COUNTRY")


def _address_text(row: Mapping[str, Any]) -> Value:
    street = ", ".join(t for t in (clean_text(row.get("ADDRESS_1")), clean_text(row.get("ADDRESS_2"))) if t)
    return address(
        street,
        postal=row.get("POSTAL_CODE"),
        region=row.get("PROVINCE"),
        city=row.get("CITY"),
        country=row.get("COUNTRY"),
    )


def _addresses(party: B24Party) -> State:
    by_type = {int(a.get("TYPE_ID") or 0): a for a in party.addresses}
    return {f: _address_text(by_type[t]) if t in by_type else () for f, t in ADDRESS_TYPES.items()}


def _relation(value: Any, buyer: str, supplier: str, both: str = "") -> str:
    if both and value == both:
        return "both"
    return "buyer" if value == buyer else "supplier" if value == supplier else ""


def relation_type(relation: Any, buyer: str, supplier: str, both: str = "") -> str:
    """The single Bitrix24 type for a relation; without a "both" type, "both" shows as the buyer's."""
    if relation == "both":
        return both or buyer
    return buyer if relation == "buyer" else supplier


def company_state(
    party: B24Party, resolved: PartiesResolved, config: PartiesMapping, responsible: str = ""
) -> State:
    """`responsible`: the employee ref `ASSIGNED_BY_ID` maps to (`bridge.parties.responsible`)."""
    record, rq = party.record, party.requisite or {}
    kind = resolved.kind_of_preset(int(rq["PRESET_ID"])) if rq.get("PRESET_ID") else None
    okopf_raw = record.get(config.okopf_field)
    state: State = {
        P.KIND: kind.value if kind else "",
        P.NAME: clean_text(record.get("TITLE")),
        P.FULL_NAME: clean_text(rq.get("RQ_COMPANY_FULL_NAME")),
        P.INN: clean_text(rq.get("RQ_INN")),
        P.KPP: clean_text(rq.get("RQ_KPP")),
        P.OKPO: clean_text(rq.get("RQ_OKPO")),
        P.OKOPF: resolved.okopf_enum.get(str(okopf_raw), "") if okopf_raw not in (None, "", False) else "",
        P.SCHEDULE: clean_text(record.get(config.schedule_field)),
        P.COMMENT: strip_markup(str(record.get("COMMENTS") or "")).strip(),
        P.RELATION: _relation(
            record.get("COMPANY_TYPE"),
            resolved.buyer_company_type,
            resolved.supplier_company_type,
            resolved.both_company_type,
        ),
        P.PHONES: _multi(record, "PHONE"),
        P.EMAILS: _multi(record, "EMAIL"),
        P.RESPONSIBLE: responsible,
    }
    return state | _addresses(party)


def private_person_state(party: B24Party, resolved: PartiesResolved, responsible: str = "") -> State:
    record, rq = party.record, party.requisite or {}
    state: State = {
        P.KIND: CounterpartyKind.PRIVATE_PERSON.value,
        P.NAME: join_person_name(record.get("LAST_NAME"), record.get("NAME"), record.get("SECOND_NAME")),
        P.FULL_NAME: "",
        P.INN: clean_text(rq.get("RQ_INN")),
        P.KPP: "",
        P.OKPO: "",
        P.OKOPF: "",
        P.SCHEDULE: "",
        P.COMMENT: strip_markup(str(record.get("COMMENTS") or "")).strip(),
        P.RELATION: _relation(
            record.get("TYPE_ID"),
            resolved.buyer_contact_type,
            resolved.supplier_contact_type,
            resolved.both_contact_type,
        ),
        P.PHONES: _multi(record, "PHONE"),
        P.EMAILS: _multi(record, "EMAIL"),
        P.RESPONSIBLE: responsible,
    }
    return state | _addresses(party)


def person_state(party: B24Party, owner_ref: str, resolved: PartiesResolved | None = None) -> State:
    record = party.record
    type_id = str(record.get("TYPE_ID") or "")
    roles = resolved.contact_roles if resolved is not None else {}
    return {
        C.NAME: join_person_name(record.get("LAST_NAME"), record.get("NAME"), record.get("SECOND_NAME")),
        C.POST: clean_text(record.get("POST")),
        C.COMMENT: strip_markup(str(record.get("COMMENTS") or "")).strip(),
        C.WORK_PHONES: _multi(
            record, "PHONE", [t for t in ("WORK", "HOME", "OTHER", "FAX", "PAGER", "MAILING", "")]
        ),
        C.MOBILE_PHONES: _multi(record, "PHONE", ["MOBILE"]),
        C.EMAILS: _multi(record, "EMAIL"),
        C.OWNER: owner_ref,
        C.ROLE: type_id if type_id in roles else "",
    }


# --- writes -------------------------------------------------------------------------------------


def multifield_ops(
    current: Sequence[Mapping[str, Any]],
    wanted: Sequence[str],
    value_type: str = "WORK",
    only_types: Sequence[str] | None = None,
    types: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Items that turn the multifield's values (of `only_types`) into `wanted`: delete the
    missing ones by ID, append the new ones (of `types[value]`, else `value_type`); others stay
    untouched (reference §5.3)."""
    mine = [m for m in current if only_types is None or str(m.get("VALUE_TYPE") or "").upper() in only_types]
    have = {clean_text(m.get("VALUE")): m for m in mine}
    ops: list[dict[str, Any]] = [
        {"ID": str(m["ID"]), "DELETE": "Y"}
        for value, m in have.items()
        if value not in wanted and m.get("ID")
    ]
    kinds = types or {}
    ops += [{"VALUE": v, "VALUE_TYPE": kinds.get(v, value_type)} for v in wanted if v not in have]
    return ops


def entity_fields(
    entity: str,
    changes: Mapping[str, Value],
    record: Mapping[str, Any],
    resolved: PartiesResolved,
    config: PartiesMapping,
    *,
    person: bool = False,
    phone_types: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`crm.company.update` / `crm.contact.update` fields for the changed values. `phone_types`:
    phone text → the VALUE_TYPE its 1C kind maps to (`[phones]`), for the phones added here."""
    fields: dict[str, Any] = {}
    # Both enums share the values "name" and "comment".
    name_field, comment_field = P.NAME.value, P.COMMENT.value
    if name_field in changes:
        if entity == "COMPANY":
            fields["TITLE"] = str(changes[name_field])
        else:
            last, first, middle = split_person_name(str(changes[name_field]))
            fields |= {"LAST_NAME": last, "NAME": first, "SECOND_NAME": middle}
    if comment_field in changes:
        fields["COMMENTS"] = str(changes[comment_field])
    if person:
        if C.POST in changes:
            fields["POST"] = str(changes[C.POST])
        if C.ROLE in changes:
            fields["TYPE_ID"] = str(changes[C.ROLE])
        current = [m for m in record.get("PHONE") or [] if isinstance(m, Mapping)]
        ops: list[dict[str, Any]] = []
        if C.WORK_PHONES in changes:
            work_types = {v: t for v, t in (phone_types or {}).items() if t != "MOBILE"}
            ops += multifield_ops(
                current,
                changes[C.WORK_PHONES],
                "WORK",
                [t for t in ("WORK", "HOME", "OTHER", "FAX", "PAGER", "MAILING")],
                work_types,
            )
        if C.MOBILE_PHONES in changes:
            ops += multifield_ops(current, changes[C.MOBILE_PHONES], "MOBILE", ["MOBILE"])
        if ops:
            fields["PHONE"] = ops
        if C.EMAILS in changes:
            fields["EMAIL"] = multifield_ops(record.get("EMAIL") or [], changes[C.EMAILS])
        return fields
    relation = changes.get(P.RELATION)
    if relation:
        if entity == "COMPANY":
            fields["COMPANY_TYPE"] = relation_type(
                relation,
                resolved.buyer_company_type,
                resolved.supplier_company_type,
                resolved.both_company_type,
            )
        else:
            fields["TYPE_ID"] = relation_type(
                relation,
                resolved.buyer_contact_type,
                resolved.supplier_contact_type,
                resolved.both_contact_type,
            )
    if entity == "COMPANY":
        if P.OKOPF in changes and (enum_id := resolved.okopf_id(str(changes[P.OKOPF]))):
            fields[config.okopf_field] = enum_id
        if P.SCHEDULE in changes:
            fields[config.schedule_field] = str(changes[P.SCHEDULE])
    if P.PHONES in changes:
        fields["PHONE"] = multifield_ops(record.get("PHONE") or [], changes[P.PHONES], types=phone_types)
    if P.EMAILS in changes:
        fields["EMAIL"] = multifield_ops(record.get("EMAIL") or [], changes[P.EMAILS])
    return {k: v for k, v in fields.items() if v != []}


def requisite_fields(
    entity: str, changes: Mapping[str, Value], state: Mapping[str, Value], resolved: PartiesResolved
) -> dict[str, Any]:
    """`RQ_*` (and PRESET_ID) for the changed values; the names follow the merged state."""
    fields: dict[str, Any] = {}
    kind_text = str(state.get(P.KIND) or "")
    kind = (
        CounterpartyKind(kind_text)
        if kind_text
        else (CounterpartyKind.PRIVATE_PERSON if entity == "CONTACT" else CounterpartyKind.LEGAL_ENTITY)
    )
    if P.KIND in changes and kind in resolved.preset_ids:
        fields["PRESET_ID"] = resolved.preset_ids[kind]
    for key, name in (
        (P.INN, "RQ_INN"),
        (P.KPP, "RQ_KPP"),
        (P.OKPO, "RQ_OKPO"),
        (P.FULL_NAME, "RQ_COMPANY_FULL_NAME"),
    ):
        if key in changes:
            fields[name] = str(changes[key])
    if P.NAME in changes:
        if kind is CounterpartyKind.PRIVATE_PERSON:
            last, first, middle = split_person_name(str(changes[P.NAME]))
            fields |= {"RQ_LAST_NAME": last, "RQ_FIRST_NAME": first, "RQ_SECOND_NAME": middle}
        else:
            fields["RQ_COMPANY_NAME"] = str(changes[P.NAME])
    return fields


def new_requisite(
    entity: str, entity_id: int, state: Mapping[str, Value], resolved: PartiesResolved
) -> dict[str, Any]:
    everything = {k: v for k, v in state.items() if v}
    fields = requisite_fields(entity, everything | {P.KIND: state.get(P.KIND, "")}, state, resolved)
    kind_text = str(state.get(P.KIND) or "")
    kind = (
        CounterpartyKind(kind_text)
        if kind_text
        else (CounterpartyKind.PRIVATE_PERSON if entity == "CONTACT" else CounterpartyKind.LEGAL_ENTITY)
    )
    preset = resolved.preset_ids.get(kind, 3 if kind is CounterpartyKind.PRIVATE_PERSON else 1)
    return {
        **fields,
        "ENTITY_TYPE_ID": 4 if entity == "COMPANY" else 3,
        "ENTITY_ID": entity_id,
        "PRESET_ID": preset,
        "NAME": str(state.get(P.NAME) or "Реквизиты")[:100],
        "ACTIVE": "Y",
    }


def address_fields(field_name: str, value: Value, requisite_id: int) -> dict[str, Any]:
    """The parts in their own fields (1C's presentation split, `state.address`); ADDRESS_2 is
    cleared because the street line carries it."""
    postal, region, city, street, country = (*value, "", "", "", "", "")[:5]
    return {
        "TYPE_ID": ADDRESS_TYPES[field_name],
        "ENTITY_TYPE_ID": REQUISITE_OWNER,
        "ENTITY_ID": requisite_id,
        "ADDRESS_1": street,
        "ADDRESS_2": "",
        "CITY": city,
        "POSTAL_CODE": postal,
        "PROVINCE": region,
        "COUNTRY": country,
    }
