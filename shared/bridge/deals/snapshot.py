"""Everything the deal flow needs from Bitrix24, read in one `batch` call.

A deal event carries only the deal id (state, not deltas): the flow re-reads the deal, its product
rows, its company and contact, their requisites and the responsible user. One batch with
`$result[deal][…]` back-references does that in a single request (one unit of the rate limit).
When the deal has no company or contact the referencing commands fail or come back empty; that is
normal and parses to `None`, never to someone else's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from bridge.deals.models import (
    REQUISITE_OWNER_COMPANY,
    REQUISITE_OWNER_CONTACT,
    Company,
    Contact,
    Deal,
    ProductRow,
    Requisite,
    WireDataError,
    parse_wire,
)
from bridge.domain.users import B24User
from bridge.errors import TransientError

DEAL = "deal"
ROWS = "rows"
COMPANY = "company"
CONTACT = "contact"
COMPANY_REQUISITES = "company_requisites"
CONTACT_REQUISITES = "contact_requisites"
ASSIGNED_USER = "assigned_user"

REQUISITE_SELECT = (
    "ID",
    "ENTITY_TYPE_ID",
    "ENTITY_ID",
    "PRESET_ID",
    "NAME",
    "ACTIVE",
    "SORT",
    "RQ_INN",
    "RQ_KPP",
    "RQ_OKPO",
    "RQ_COMPANY_NAME",
    "RQ_COMPANY_FULL_NAME",
    "RQ_NAME",
    "RQ_LAST_NAME",
    "RQ_FIRST_NAME",
    "RQ_SECOND_NAME",
)

# Error codes inside `result_error` that mean "try again later", not "bad data".
TRANSIENT_B24_ERRORS = frozenset(
    {
        "QUERY_LIMIT_EXCEEDED",
        "OPERATION_TIME_LIMIT",
        "INTERNAL_SERVER_ERROR",
        "ERROR_SERVER",
        "OVERLOAD_LIMIT",
    }
)

type BatchPlan = dict[str, tuple[str, dict[str, Any]]]


class DealSnapshot(BaseModel):
    """The current state of one deal and the parties around it."""

    model_config = ConfigDict(frozen=True)

    deal: Deal
    rows: tuple[ProductRow, ...] = ()
    company: Company | None = None
    contact: Contact | None = None
    company_requisites: tuple[Requisite, ...] = ()
    contact_requisites: tuple[Requisite, ...] = ()
    assigned_user: B24User | None = None

    @property
    def company_requisite(self) -> Requisite | None:
        return primary_requisite(self.company_requisites)

    @property
    def contact_requisite(self) -> Requisite | None:
        return primary_requisite(self.contact_requisites)

    @property
    def ordered_rows(self) -> tuple[ProductRow, ...]:
        """Rows as the deal card shows them (SORT, then row id): the order's line order."""
        return tuple(sorted(self.rows, key=lambda r: (r.sort, r.id or 0)))


def primary_requisite(requisites: tuple[Requisite, ...]) -> Requisite | None:
    """The requisite that speaks for the party: the first active one by SORT, then ID."""
    active = [r for r in requisites if r.active] or list(requisites)
    return min(active, key=lambda r: (r.sort, r.id)) if active else None


def _requisite_list(owner_type: int, owner_ref: str) -> tuple[str, dict[str, Any]]:
    return (
        "crm.requisite.list",
        {
            "filter": {"ENTITY_TYPE_ID": owner_type, "ENTITY_ID": owner_ref},
            "order": {"SORT": "ASC", "ID": "ASC"},
            "select": list(REQUISITE_SELECT),
        },
    )


def deal_read_plan(deal_id: int, prefix: str = "") -> BatchPlan:
    """The batch commands (key → (method, params)) that read one deal's whole snapshot.

    `prefix` goes before every key and back-reference, so several deals' plans share one batch
    (the worker's coalesced read); strip it again before `parse_deal_snapshot`."""
    deal = f"{prefix}{DEAL}"
    plan: BatchPlan = {
        DEAL: ("crm.deal.get", {"id": deal_id}),
        ROWS: ("crm.deal.productrows.get", {"id": deal_id}),
        COMPANY: ("crm.company.get", {"id": f"$result[{deal}][COMPANY_ID]"}),
        CONTACT: ("crm.contact.get", {"id": f"$result[{deal}][CONTACT_ID]"}),
        COMPANY_REQUISITES: _requisite_list(REQUISITE_OWNER_COMPANY, f"$result[{deal}][COMPANY_ID]"),
        CONTACT_REQUISITES: _requisite_list(REQUISITE_OWNER_CONTACT, f"$result[{deal}][CONTACT_ID]"),
        ASSIGNED_USER: ("user.get", {"FILTER": {"ID": f"$result[{deal}][ASSIGNED_BY_ID]"}}),
    }
    return {f"{prefix}{key}": command for key, command in plan.items()}


def _error_text(error: Any) -> tuple[str, str]:
    if isinstance(error, Mapping):
        return str(error.get("error") or ""), str(error.get("error_description") or "")
    return "", str(error)


def _raise_for(key: str, error: Any) -> None:
    code, description = _error_text(error)
    message = f"Bitrix24 batch command {key!r} failed: {code or 'error'} {description}".strip()
    if code.upper() in TRANSIENT_B24_ERRORS:
        raise TransientError(message)
    raise WireDataError(message)


def _as_dict(section: Any) -> Mapping[str, Any]:
    # PHP writes an empty section as [] instead of {}.
    if isinstance(section, Mapping):
        return section
    if section in (None, []):
        return {}
    raise WireDataError(f"Bitrix24 batch: expected an object, got {type(section).__name__}")


def _owned_requisites(raw: Any, owner_type: int, owner_id: int, key: str) -> tuple[Requisite, ...]:
    if raw in (None, [], {}):
        return ()
    if not isinstance(raw, list):
        raise WireDataError(f"{key}: expected a list of requisites, got {type(raw).__name__}")
    parsed = (parse_wire(Requisite, item, f"{key}[{index}]") for index, item in enumerate(raw))
    # A filter with an empty owner may match other owners' rows; keep only this party's.
    return tuple(r for r in parsed if r.entity_type_id == owner_type and r.entity_id == owner_id)


def _party[M: Company | Contact](
    model: type[M], key: str, ref: int | None, results: Mapping[str, Any], errors: Mapping[str, Any]
) -> M | None:
    if ref is None:
        return None  # the command referenced an empty value; its failure is expected
    if key in errors:
        _raise_for(key, errors[key])
    raw = results.get(key)
    if raw in (None, [], {}):
        raise WireDataError(f"{key} {ref}: referenced by the deal but not returned")
    party = parse_wire(model, raw, f"{key} {ref}")
    if party.id != ref:
        raise WireDataError(f"{key}: asked for {ref}, got {party.id}")
    return party


def _assigned_user(raw: Any, assigned_id: int | None) -> B24User | None:
    if assigned_id is None or raw in (None, [], {}):
        return None
    rows = raw if isinstance(raw, list) else [raw]
    users = [parse_wire(B24User, row, f"{ASSIGNED_USER}[{i}]") for i, row in enumerate(rows)]
    return next((u for u in users if u.id == assigned_id), None)


def parse_deal_snapshot(batch_results: Mapping[str, Any] | list[Any], batch_errors: Any) -> DealSnapshot:
    """Turn the `result` / `result_error` sections of the plan's batch answer into a snapshot.

    Raises `TransientError` when Bitrix24 asked us to slow down, `WireDataError` (permanent) when the
    deal is missing or a referenced object is malformed.
    """
    results = _as_dict(batch_results)
    errors = _as_dict(batch_errors)
    if DEAL in errors:
        _raise_for(DEAL, errors[DEAL])
    if DEAL not in results:
        raise WireDataError("Bitrix24 batch: the deal was not returned")
    deal = parse_wire(Deal, results[DEAL], DEAL)

    if ROWS in errors:
        _raise_for(ROWS, errors[ROWS])
    raw_rows = results.get(ROWS) or []
    if not isinstance(raw_rows, list):
        raise WireDataError(f"{ROWS}: expected a list, got {type(raw_rows).__name__}")
    rows = tuple(parse_wire(ProductRow, row, f"{ROWS}[{i}]") for i, row in enumerate(raw_rows))

    company = _party(Company, COMPANY, deal.company_id, results, errors)
    contact = _party(Contact, CONTACT, deal.contact_id, results, errors)
    for present, key in ((company, COMPANY_REQUISITES), (contact, CONTACT_REQUISITES)):
        if present is not None and key in errors:
            _raise_for(key, errors[key])  # without requisites the party's kind and INN would be guessed
    company_requisites = (
        _owned_requisites(
            results.get(COMPANY_REQUISITES), REQUISITE_OWNER_COMPANY, company.id, COMPANY_REQUISITES
        )
        if company
        else ()
    )
    contact_requisites = (
        _owned_requisites(
            results.get(CONTACT_REQUISITES), REQUISITE_OWNER_CONTACT, contact.id, CONTACT_REQUISITES
        )
        if contact
        else ()
    )
    return DealSnapshot(
        deal=deal,
        rows=rows,
        assigned_user=_assigned_user(results.get(ASSIGNED_USER), deal.assigned_by_id),
        company=company,
        company_requisites=company_requisites,
        contact=contact,
        contact_requisites=contact_requisites,
    )
