"""Who buys: the deal's company or contact as a 1C counterparty, its contact person, its manager.

§2.1.1.10 and §2.6.1: a deal's buyer is linked to an existing 1C counterparty when one is found
(link → INN(+KPP) → exact name, §2.2.12.10), otherwise a new one is created in the configured
folder with a contact person. Two equally good candidates are never guessed between: the flow
creates nothing and tells a person. A private person (requisite preset 3, or a deal with only a
contact) never becomes a legal entity. The order goes to the counterparty's own manager when it
exists; otherwise the deal's responsible is mapped by e-mail, then "Фамилия Имя", then the settings
table, else the default employee with a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum, auto
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bridge.deals.config import DealFlowOptions, OneCRefs
from bridge.deals.models import Contact, MultiFieldValue, Requisite, WireDataError, joined_name
from bridge.deals.snapshot import DealSnapshot
from bridge.domain.counterparty import CounterpartyKind, ref_or_none
from bridge.domain.onec_sets import EMAIL, PHONE
from bridge.domain.text import name_key, strip_markup

_DESCRIPTION_MAX = 100
_POSITION_MAX = 50


PartySource = Literal["company", "contact"]  # the Bitrix24 object the buyer was read from


class BuyerParty(BaseModel):
    """The deal's buyer as 1C needs it, whichever Bitrix24 object it came from."""

    model_config = ConfigDict(frozen=True)
    source: PartySource
    b24_id: int
    kind: CounterpartyKind
    name: str
    full_name: str
    inn: str = ""
    kpp: str = ""
    okpo: str = ""
    phones: tuple[MultiFieldValue, ...] = ()
    emails: tuple[MultiFieldValue, ...] = ()
    comment: str = ""
    assigned_by_id: int | None = None


def _kind_of(requisite: Requisite | None, options: DealFlowOptions) -> CounterpartyKind:
    if requisite is None or requisite.preset_id is None:
        return CounterpartyKind.LEGAL_ENTITY
    return options.requisite_presets.get(requisite.preset_id, CounterpartyKind.LEGAL_ENTITY)


def _person_name(requisite: Requisite) -> str:
    """A private person's requisite: "Фамилия Имя Отчество" from its parts, else RQ_NAME."""
    parts = (requisite.last_name, requisite.first_name, requisite.second_name)
    return joined_name(*parts) or requisite.person_name.strip()


def buyer_party(snapshot: DealSnapshot, options: DealFlowOptions | None = None) -> BuyerParty | None:
    """The company when the deal has one, else the contact as a private person; None when neither."""
    options = options or DealFlowOptions.from_mapping()
    company, contact = snapshot.company, snapshot.contact
    if company is not None:
        requisite = snapshot.company_requisite
        kind = _kind_of(requisite, options)
        rq = requisite or Requisite.model_validate({"ID": 1})
        if kind is CounterpartyKind.PRIVATE_PERSON:
            name = company.title.strip() or _person_name(rq)
            full_name = _person_name(rq) or name
        else:
            name = company.title.strip() or rq.company_name.strip() or _person_name(rq)
            full_name = rq.company_full_name.strip() or rq.company_name.strip() or name
        name = name or f"Компания #{company.id}"
        return BuyerParty(
            source="company",
            b24_id=company.id,
            kind=kind,
            name=name[:_DESCRIPTION_MAX],
            full_name=full_name or name,
            inn=rq.inn.strip(),
            kpp=rq.kpp.strip() if kind is CounterpartyKind.LEGAL_ENTITY else "",
            okpo=rq.okpo.strip(),
            phones=company.phones,
            emails=company.emails,
            comment=strip_markup(company.comments),
            assigned_by_id=company.assigned_by_id,
        )
    if contact is not None:
        requisite = snapshot.contact_requisite
        name = contact.full_name or (_person_name(requisite) if requisite else "") or f"Контакт #{contact.id}"
        return BuyerParty(
            source="contact",
            b24_id=contact.id,
            kind=CounterpartyKind.PRIVATE_PERSON,
            name=name[:_DESCRIPTION_MAX],
            full_name=name,
            inn=requisite.inn.strip() if requisite else "",
            okpo="",
            phones=contact.phones,
            emails=contact.emails,
            comment=strip_markup(contact.comments),
            assigned_by_id=contact.assigned_by_id,
        )
    return None


def contact_person_for(snapshot: DealSnapshot) -> Contact | None:
    """The contact to keep as the counterparty's contact person: only when the buyer is a
    company (a contact-only deal's contact *is* the counterparty)."""
    return snapshot.contact if snapshot.company is not None else None


class CounterpartyCandidate(BaseModel):
    """A `Catalog_Контрагенты` row as the search returned it."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)
    ref: str = Field(alias="Ref_Key")
    description: str = Field("", alias="Description")
    inn: str = Field("", alias="ИНН")
    kpp: str = Field("", alias="КПП")
    kind: str = Field("", alias="ВидКонтрагента")
    responsible: str | None = Field(None, alias="Ответственный_Key")
    main_contact: str | None = Field(None, alias="КонтактноеЛицо_Key")
    is_folder: bool = Field(False, alias="IsFolder")
    deletion_mark: bool = Field(False, alias="DeletionMark")

    @field_validator("responsible", "main_contact", mode="before")
    @classmethod
    def _empty_ref(cls, value: Any) -> str | None:
        return ref_or_none(value)

    @field_validator("description", "inn", "kpp", "kind", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return "" if value is None else str(value).strip()

    @property
    def usable(self) -> bool:
        return not self.is_folder and not self.deletion_mark


def parse_candidates(
    rows: Iterable[CounterpartyCandidate | Mapping[str, Any]],
) -> tuple[CounterpartyCandidate, ...]:
    result: list[CounterpartyCandidate] = []
    for index, row in enumerate(rows):
        if isinstance(row, CounterpartyCandidate):
            result.append(row)
            continue
        try:
            result.append(CounterpartyCandidate.model_validate(row))
        except ValidationError as error:
            raise WireDataError(f"1C counterparty [{index}]: {error.errors()[0]['msg']}") from None
    return tuple(result)


class CounterpartyDecisionKind(StrEnum):
    """How the buyer's counterparty was found, in the order they are tried (values: lower-case names)."""

    USE_LINKED = auto()
    USE_MATCHED_BY_INN = auto()
    USE_MATCHED_BY_NAME = auto()
    CREATE = auto()
    AMBIGUOUS = auto()


class CounterpartyDecision(BaseModel):
    """The counterparty to use, or the ambiguous candidates a person must choose from."""

    model_config = ConfigDict(frozen=True)
    kind: CounterpartyDecisionKind
    counterparty: CounterpartyCandidate | None = None  # the one to use
    candidates: tuple[CounterpartyCandidate, ...] = ()  # the ambiguous ones
    reason: str = ""

    @property
    def ref(self) -> str | None:
        return self.counterparty.ref if self.counterparty else None

    @property
    def responsible_ref(self) -> str | None:
        """The existing counterparty's own manager, who gets the order (§2.6.1)."""
        return self.counterparty.responsible if self.counterparty else None


def _use(
    kind: CounterpartyDecisionKind, candidate: CounterpartyCandidate, reason: str
) -> CounterpartyDecision:
    return CounterpartyDecision(kind=kind, counterparty=candidate, reason=reason)


def _ambiguous(candidates: Sequence[CounterpartyCandidate], reason: str) -> CounterpartyDecision:
    return CounterpartyDecision(
        kind=CounterpartyDecisionKind.AMBIGUOUS, candidates=tuple(candidates), reason=reason
    )


def _kind_compatible(party: BuyerParty, candidate: CounterpartyCandidate) -> bool:
    if party.kind is CounterpartyKind.PRIVATE_PERSON:
        return candidate.kind != CounterpartyKind.LEGAL_ENTITY
    return candidate.kind != CounterpartyKind.PRIVATE_PERSON


def decide_counterparty(
    party: BuyerParty,
    linked: CounterpartyCandidate | Mapping[str, Any] | None,
    by_inn: Iterable[CounterpartyCandidate | Mapping[str, Any]] = (),
    by_name: Iterable[CounterpartyCandidate | Mapping[str, Any]] = (),
) -> CounterpartyDecision:
    """Pick the 1C counterparty for the buyer. `linked`: the counterparty the link store points to
    (as read from 1C); `by_inn` / `by_name`: rows found by `inn_filter` / `name_filter`. Candidates
    are re-checked here, so a broader search result is harmless."""
    if linked is not None:
        (current,) = parse_candidates([linked])
        if not current.deletion_mark:
            return _use(CounterpartyDecisionKind.USE_LINKED, current, "linked earlier")

    if party.inn:
        same_inn = [c for c in parse_candidates(by_inn) if c.usable and c.inn == party.inn]
        if party.kpp:
            exact_kpp = [c for c in same_inn if c.kpp == party.kpp]
            # A different non-empty KPP is another branch of the same organization.
            pool = exact_kpp or [c for c in same_inn if not c.kpp]
        else:
            pool = same_inn
        if len(pool) == 1:
            return _use(CounterpartyDecisionKind.USE_MATCHED_BY_INN, pool[0], f"ИНН {party.inn}")
        if len(pool) > 1:
            return _ambiguous(pool, f"several 1C counterparties have ИНН {party.inn}")

    wanted = name_key(party.name)
    same_name = [
        c
        for c in parse_candidates(by_name)
        if c.usable
        and name_key(c.description) == wanted
        and (not c.inn or not party.inn or c.inn == party.inn)
        and _kind_compatible(party, c)
    ]
    if len(same_name) == 1:
        return _use(CounterpartyDecisionKind.USE_MATCHED_BY_NAME, same_name[0], f"name {party.name!r}")
    if len(same_name) > 1:
        return _ambiguous(same_name, f"several 1C counterparties are named {party.name!r}")
    return CounterpartyDecision(kind=CounterpartyDecisionKind.CREATE, reason="no match in 1C")


def _odata_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def inn_filter(inn: str) -> str:
    """`$filter` for the INN search (KPP is compared in `decide_counterparty`)."""
    return f"ИНН eq {_odata_text(inn.strip())}"


def name_filter(name: str) -> str:
    return f"Description eq {_odata_text(' '.join(name.split()))}"


# --- 1C bodies -----------------------------------------------------------------------------


def _preferred(values: Sequence[MultiFieldValue], kinds: tuple[str, ...]) -> MultiFieldValue | None:
    for kind in kinds:
        for value in values:
            if value.value_type.upper() == kind:
                return value
    return values[0] if values else None


def _info_row(kind: str, value: str, kind_ref: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {"Тип": kind}
    if kind_ref:
        row["Вид_Key"] = kind_ref
    row["Представление"] = value.strip()
    if kind == PHONE:
        row["НомерТелефона"] = value.strip()[:20]
    else:
        row["АдресЭП"] = value.strip()
    return row


def _numbered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"LineNumber": line, **row} for line, row in enumerate(rows, 1)]


def counterparty_contact_info(party: BuyerParty, refs: OneCRefs) -> list[dict[str, Any]]:
    """One phone (work first) of the kind `[phones]` gives its type, and one e-mail (work first)."""
    rows: list[dict[str, Any]] = []
    phone = _preferred(party.phones, ("WORK",))
    if phone:
        rows.append(
            _info_row(PHONE, phone.value, refs.phone_kinds.kind_for("counterparty", phone.value_type))
        )
    email = _preferred(party.emails, ("WORK",))
    if email:
        rows.append(_info_row(EMAIL, email.value, refs.counterparty_email_kind))
    return _numbered(rows)


def counterparty_body(party: BuyerParty, responsible_ref: str | None, refs: OneCRefs) -> dict[str, Any]:
    """POST body of `Catalog_Контрагенты` for a new buyer; empty fields are left out (§2.2.12.11)."""
    body: dict[str, Any] = {
        "Description": party.name,
        "НаименованиеПолное": party.full_name,
        "ВидКонтрагента": party.kind.value,
        "Покупатель": True,
    }
    optional = {
        "ИНН": party.inn,
        "КПП": party.kpp if party.kind is CounterpartyKind.LEGAL_ENTITY else "",
        "КодПоОКПО": party.okpo,
        "Parent_Key": refs.counterparty_folder or "",
        "Ответственный_Key": responsible_ref or "",
        "Комментарий": party.comment,
    }
    body.update({k: v for k, v in optional.items() if v})
    info = counterparty_contact_info(party, refs)
    if info:
        body["КонтактнаяИнформация"] = info
    return body


def contact_person_body(contact: Contact, owner_ref: str, refs: OneCRefs) -> dict[str, Any]:
    """POST body of `Catalog_КонтактныеЛица` (1.6: owned by the counterparty, one name field)."""
    body: dict[str, Any] = {
        "Description": (contact.full_name or f"Контакт #{contact.id}")[:_DESCRIPTION_MAX],
        "Owner_Key": owner_ref,
    }
    if contact.post.strip():
        body["Должность"] = contact.post.strip()[:_POSITION_MAX]
    rows: list[dict[str, Any]] = []
    work = _preferred([p for p in contact.phones if p.value_type.upper() != "MOBILE"], ("WORK",))
    # The same kinds the parties flow reads back (bridge.domain.phones): no second row, no WORK twin.
    if work:
        rows.append(_info_row(PHONE, work.value, refs.phone_kinds.kind_for("person", work.value_type)))
    mobile = next((p for p in contact.phones if p.value_type.upper() == "MOBILE"), None)
    if mobile:
        rows.append(_info_row(PHONE, mobile.value, refs.phone_kinds.kind_for("person", "MOBILE")))
    email = _preferred(contact.emails, ("WORK",))
    if email:
        rows.append(_info_row(EMAIL, email.value, refs.contact_email_kind))
    if rows:
        body["КонтактнаяИнформация"] = _numbered(rows)
    comment = strip_markup(contact.comments)
    if comment:
        body["Комментарий"] = comment
    return body


def main_contact_patch(counterparty: CounterpartyCandidate, contact_person_ref: str) -> dict[str, Any]:
    """Make the contact person the counterparty's main one, only when it has none."""
    return {} if counterparty.main_contact else {"КонтактноеЛицо_Key": contact_person_ref}
