"""Deal-flow setup: funnels and stages by name, deal user fields, and the 1C side.

Bitrix24: builds the `StageBook` (`crm.category.list` + `crm.status.list`), checks every configured
funnel and stage, creates the deal user fields the deal and payment flows write. 1C: resolves the
organization, order states, warehouse, price kind, folder for new counterparties, default employee,
contact-information kinds, units and VAT rates; creates the folder for new counterparties when a
fresh base has none; finds or creates the additional attribute
"ID сделки Битрикс24" and attaches it to the set `Документ_ЗаказПокупателя`. With no problems
(and not a dry run) the ids are stored in SyncTable for the flows (`bridge.deals.resolved`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge.config.deal import DealMapping
from bridge.config.onec import OneCMapping
from bridge.deals.config import OneCRefs
from bridge.deals.resolved import NO_VAT, AmountItem, DealResolved, resolved_config
from bridge.domain.counterparty import EMPTY_GUID
from bridge.domain.onec_sets import (
    CONTACT_KINDS,
    COUNTERPARTIES,
    EMPLOYEES,
    NOMENCLATURE,
    ORDER_PROPERTY_SET,
    ORDER_STATES,
    ORGANIZATIONS,
    PRICE_KINDS,
    PROPERTIES,
    PROPERTY_SETS,
    UNITS,
    VAT_RATES,
    WAREHOUSES,
)
from bridge.domain.stages import StageBook
from bridge.errors import ConfigurationError
from bridge.onec.client import ODataClient
from bridge.onec.odata import eq
from bridge.ports import Ports
from bridge.setup import phone_kinds
from bridge.setup.b24_fields import ensure_user_fields
from bridge.setup.deal_card import read_stage_book, user_field_specs
from bridge.setup.framework import SetupProblem
from bridge.setup.onec_names import ensure_folder, find_by_description, only_one, string_value_type

type Results = list[SetupProblem | str]


# --- Bitrix24 ------------------------------------------------------------------------------------


def check_stages(book: StageBook, deal: DealMapping) -> Results:
    results: Results = []
    where = "Bitrix24 deal funnels"
    fix = "rename it in Bitrix24 or correct [deal] in the mapping file"
    for name, setting in (
        (deal.main_funnel, "deal.main_funnel"),
        (deal.materials_funnel, "deal.materials_funnel"),
    ):
        try:
            book.funnel(name)
        except ConfigurationError as error:
            results.append(SetupProblem(where, str(error), f"{fix} ({setting})"))
    for name in deal.no_exchange_after_order_funnels:
        try:
            book.funnel(name)
        except ConfigurationError as error:
            results.append(SetupProblem(where, str(error), f"{fix} (deal.no_exchange_after_order_funnels)"))
    for ref in deal.trigger_stages:
        try:
            book.resolve(ref)
        except ConfigurationError as error:
            results.append(SetupProblem(where, str(error), f"{fix} (deal.trigger_stages)"))
    try:
        main = book.funnel(deal.main_funnel)
        if not any(
            " ".join(s.name.split()).casefold() == deal.feedback_stage.casefold() for s in main.stages
        ):
            results.append(
                SetupProblem(
                    where,
                    f"stage {deal.feedback_stage!r} does not exist in funnel {deal.main_funnel!r}",
                    f"{fix} (deal.feedback_stage)",
                )
            )
    except ConfigurationError:
        pass  # already reported above
    return results


# --- 1C ------------------------------------------------------------------------------------------


class _Refs:
    """Collects resolved refs and the problems of the ones that failed."""

    def __init__(self, onec: ODataClient) -> None:
        self.onec = onec
        self.problems: Results = []

    def named(self, entity_set: str, name: str, setting: str, *, folder: bool | None = None) -> str | None:
        if not name.strip():
            return None
        ref, problem = find_by_description(self.onec, entity_set, name, setting=setting, folder=folder)
        if problem:
            self.problems.append(problem)
        return ref

    def required(self, entity_set: str, name: str, setting: str) -> str | None:
        if not name.strip():
            self.problems.append(SetupProblem(f"1C {entity_set}", f"{setting} is empty", f"set {setting}"))
            return None
        return self.named(entity_set, name, setting)


def ensure_deal_property(onec: ODataClient, name: str, *, dry_run: bool) -> tuple[str | None, Results]:
    """Find or create the string property `name` and make sure the order set lists it."""
    results: Results = []
    rows = [
        r
        for r in onec.list(PROPERTIES, filter=eq("Description", name), select=["Ref_Key", "DeletionMark"])
        if not r.get("DeletionMark")
    ]
    sets = onec.list(PROPERTY_SETS, filter=eq("PredefinedDataName", ORDER_PROPERTY_SET))
    if not sets:
        return None, [
            SetupProblem(
                f"1C {PROPERTY_SETS}",
                f"the predefined set {ORDER_PROPERTY_SET} is not published or missing",
                "publish Catalog_НаборыДополнительныхРеквизитовИСведений in the OData composition, or set "
                'deal.deal_id_storage = "incoming_number"',
            )
        ]
    order_set = sets[0]
    if len(rows) > 1:
        return None, [SetupProblem(f"1C {PROPERTIES}", f"{len(rows)} properties named {name!r}", "keep one")]
    if rows:
        prop: str | None = str(rows[0]["Ref_Key"])
    else:
        results.append(
            f"{'would create' if dry_run else 'created'} the 1C additional attribute {name!r} "
            "(string) for customer orders"
        )
        prop = None
        if not dry_run:
            created = onec.create(
                PROPERTIES,
                {
                    "Description": name,
                    "Заголовок": name,
                    "ValueType": string_value_type(),
                    "НаборСвойств_Key": order_set["Ref_Key"],
                    "Виден": True,
                    "Доступен": True,
                },
            )
            prop = str(created["Ref_Key"])
    current = [r for r in order_set.get("ДополнительныеРеквизиты") or [] if isinstance(r, dict)]
    if prop is None or any(str(r.get("Свойство_Key")) == prop for r in current):
        return prop, results
    results.append(f"{'would attach' if dry_run else 'attached'} {name!r} to the set {ORDER_PROPERTY_SET}")
    if not dry_run:
        # PATCH replaces the whole section: send every existing row plus ours, renumbered.
        keep = [
            {"Свойство_Key": r["Свойство_Key"], "ПометкаУдаления": bool(r.get("ПометкаУдаления"))}
            for r in current
        ]
        rows_out = [
            {"LineNumber": i, **r}
            for i, r in enumerate([*keep, {"Свойство_Key": prop, "ПометкаУдаления": False}], 1)
        ]
        onec.update(PROPERTY_SETS, order_set["Ref_Key"], {"ДополнительныеРеквизиты": rows_out})
    return prop, results


def _units(onec: ODataClient) -> dict[str, str]:
    rows = onec.list(UNITS, select=["Ref_Key", "Code", "DeletionMark"])
    return {
        str(r["Code"]).strip(): str(r["Ref_Key"]) for r in rows if not r.get("DeletionMark") and r.get("Code")
    }


def _vat_rates(onec: ODataClient) -> dict[str, str]:
    rows = onec.list(VAT_RATES, select=["Ref_Key", "Ставка", "НеОблагается", "DeletionMark"])
    found: dict[str, str] = {}
    for row in rows:
        if row.get("DeletionMark"):
            continue
        key = NO_VAT if row.get("НеОблагается") else f"{float(row.get('Ставка') or 0):g}"
        found.setdefault(key, str(row["Ref_Key"]))
    return found


def resolve_onec(ports: Ports, *, dry_run: bool) -> tuple[OneCRefs | None, dict[str, Any], Results]:
    onec, names, deal = ports.onec, ports.mapping.onec, ports.mapping.deal
    refs = _Refs(onec)
    results: Results = []
    if names.organization.strip():
        organization = refs.named(ORGANIZATIONS, names.organization, "onec.organization")
    else:
        organization, problem = only_one(onec, ORGANIZATIONS, setting="onec.organization")
        if problem:
            refs.problems.append(problem)
    states = ORDER_STATES
    initial = refs.required(states, names.initial_order_state, "onec.initial_order_state")
    completed = refs.required(states, names.completed_order_state, "onec.completed_order_state")
    cancelled = refs.required(states, names.cancelled_order_state, "onec.cancelled_order_state")
    values: dict[str, Any] = _contact_kinds(refs, names)
    values["phone_kinds"], phone_notes = phone_kinds.ensure(onec, ports.mapping.phones, dry_run=dry_run)
    results += phone_notes
    values["reserve_warehouse"] = refs.named(WAREHOUSES, names.reserve_warehouse, "onec.reserve_warehouse")
    values["price_kind"] = refs.named(PRICE_KINDS, names.price_kind, "onec.price_kind")
    if names.new_counterparty_folder.strip():
        folder, folder_results = ensure_folder(
            onec,
            COUNTERPARTIES,
            names.new_counterparty_folder,
            setting="onec.new_counterparty_folder",
            dry_run=dry_run,
        )
        values["counterparty_folder"] = folder
        refs.problems += [r for r in folder_results if isinstance(r, SetupProblem)]
        results += [r for r in folder_results if isinstance(r, str)]
    # Required: an order is never written without Ответственный (§2.6.1).
    values["default_responsible"] = refs.required(
        EMPLOYEES, names.default_responsible, "onec.default_responsible"
    )
    warehouses = tuple(
        ref
        for name in names.warehouses
        if (ref := refs.named(WAREHOUSES, name, "onec.warehouses")) is not None
    )
    if deal.deal_id_storage == "additional_attribute":
        prop, prop_results = ensure_deal_property(onec, names.deal_id_attribute, dry_run=dry_run)
        results += prop_results
        values["deal_id_property"] = prop
    amount_item = _amount_item(refs, names.deal_amount_item)
    results += refs.problems
    extras: dict[str, Any] = {
        "units": _units(onec),
        "vat_rates": _vat_rates(onec),
        "stock_warehouses": warehouses,
        "amount_item": amount_item,
    }
    if refs.problems or organization is None or initial is None or completed is None or cancelled is None:
        return None, extras, results
    if deal.deal_id_storage == "additional_attribute" and values.get("deal_id_property") is None:
        return None, extras, results  # dry run before the property exists
    onec_refs = OneCRefs(
        organization=organization,
        initial_state=initial,
        completed_state=completed,
        cancelled_state=cancelled,
        **{k: v for k, v in values.items() if v is not None},
    )
    return onec_refs, extras, results


def _amount_item(refs: _Refs, name: str) -> AmountItem | None:
    """The service nomenclature that carries the amount of a deal without product rows."""
    setting = "onec.deal_amount_item"
    if not name.strip():
        refs.problems.append(SetupProblem(f"1C {NOMENCLATURE}", f"{setting} is empty", f"set {setting}"))
        return None
    ref, problem = find_by_description(refs.onec, NOMENCLATURE, name, setting=setting, folder=False)
    if problem is not None or ref is None:
        if problem is not None:
            refs.problems.append(problem)
        return None
    row = refs.onec.get(NOMENCLATURE, ref, select=["Ref_Key", "ЕдиницаИзмерения_Key", "СтавкаНДС_Key"])
    return AmountItem(
        ref=ref,
        unit=_ref_or_none(row.get("ЕдиницаИзмерения_Key")),
        vat_rate=_ref_or_none(row.get("СтавкаНДС_Key")),
    )


def _ref_or_none(value: Any) -> str | None:
    text = str(value or "").strip().lower()
    return None if not text or text == EMPTY_GUID else text


def _contact_kinds(refs: _Refs, names: OneCMapping) -> dict[str, str | None]:
    kinds = CONTACT_KINDS
    return {
        field: refs.named(kinds, getattr(names, field), f"onec.{field}")
        for field in ("counterparty_email_kind", "contact_email_kind")
    }


# --- the step ------------------------------------------------------------------------------------


def setup(ports: Ports, *, dry_run: bool) -> list[SetupProblem | str]:
    deal = ports.mapping.deal
    results: Results = []
    book = read_stage_book(ports.b24)
    results += check_stages(book, deal)
    specs = user_field_specs(deal, ports.mapping.payments.labels)
    options, field_results = ensure_user_fields(ports.b24, "deal", specs, dry_run=dry_run)
    results += field_results
    onec_refs, extras, onec_results = resolve_onec(ports, dry_run=dry_run)
    results += onec_results
    problems = [r for r in results if isinstance(r, SetupProblem)]
    if dry_run or problems or onec_refs is None:
        return results
    resolved_config(ports.store).save(
        DealResolved(
            stage_book=book,
            refs=onec_refs,
            enum_options=options,
            resolved_at=datetime.now(UTC),
            **extras,
        )
    )
    results.append("stored the resolved deal configuration in SyncTable (CONFIG#deals)")
    return results
