"""Bitrix24 deal → 1C customer order: the flow that runs for ONCRMDEALADD / ONCRMDEALUPDATE.

`sync_deal(deal_id, ports)` re-reads the deal's whole state in one batch, decides with the pure
core (`decisions.order_action`) and then creates, updates, completes or cancels the linked order,
or copies an out-of-stock deal into the materials funnel. Failures: transient errors propagate
(the queue retries, then the DLQ); permanent ones about the deal's data become a timeline comment,
an audit item and a metric, and the event counts as handled so it is not retried.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from bridge.b24.models import Command
from bridge.deals import directory
from bridge.deals.config import DealFlowOptions, OrderConfig
from bridge.deals.counterparty import BuyerResult, resolve_buyer
from bridge.deals.decisions import (
    NO_EXCHANGE_REASON,
    DealLinkState,
    OrderAction,
    OrderActionKind,
    OrderOutcome,
    order_action,
)
from bridge.deals.mapping import (
    ORDER_SET,
    OrderDraft,
    ProductRefs,
    Unmatched,
    amount_mismatch,
    build_order,
    mapped_fingerprint_input,
)
from bridge.deals.notices import notify_problem
from bridge.deals.orders import close_order, create_order, ensure_shipment, update_order
from bridge.deals.parties import (
    CounterpartyDecisionKind,
    ResponsibleDecision,
    ResponsibleSource,
    buyer_party,
    contact_person_for,
    decide_responsible,
)
from bridge.deals.products import amount_item_refs, match_products
from bridge.deals.resolved import DealResolved, resolved_config
from bridge.deals.snapshot import DealSnapshot, deal_read_plan, parse_deal_snapshot
from bridge.deals.writeback import (
    ambiguous_counterparty_text,
    amount_mismatch_text,
    deal_writeback,
    deal_writeback_patch,
    materials_copy_fields,
    materials_copy_rows,
    no_responsible_text,
    order_created_text,
    out_of_stock_text,
    responsible_warning_text,
    shipment_failed_text,
    timeline_comment,
    unmatched_products_text,
    won_without_order_text,
)
from bridge.deps import Ports, default_ports
from bridge.domain.fingerprint import fingerprint
from bridge.errors import BridgeError, ConfigurationError, PermanentError, TransientError
from bridge.observability import logger, metrics
from bridge.onec.odata import all_of, any_of, eq, guid
from bridge.pipeline.dispatch import register
from bridge.pipeline.models import QueuedEvent
from bridge.store import B24Ref, ClaimHeld, CursorConflict, Link, OneCRef

DEAL_ENTITY = "DEAL"
STOCK_REGISTER = "AccumulationRegister_ЗапасыНаСкладах"
# On the deal's link: whose manager the order follows, decided once per counterparty (§2.6.1).
RULE = "responsible"
RULE_COUNTERPARTY = "responsible_counterparty"
FOLLOW_COUNTERPARTY = "counterparty"  # the counterparty existed in 1C before this deal linked it
FOLLOW_DEAL = "deal"  # created for this deal: the order follows the deal's ASSIGNED_BY_ID


def deal_ref(deal_id: int) -> B24Ref:
    return B24Ref(entity=DEAL_ENTITY, id=str(deal_id))


def copy_cursor(deal_id: int) -> str:
    return f"deal-materials-copy-{deal_id}"


@dataclass(frozen=True)
class Run:
    """Everything one sync needs, resolved once."""

    ports: Ports
    resolved: DealResolved
    config: OrderConfig
    snapshot: DealSnapshot

    @property
    def deal_id(self) -> int:
        return self.snapshot.deal.id


def read_snapshot(ports: Ports, deal_id: int) -> DealSnapshot:
    answer = ports.b24.batch(deal_read_plan(deal_id))
    errors = {key: {"error": e.code, "error_description": e.description} for key, e in answer.errors.items()}
    return parse_deal_snapshot(answer.result, errors)


def link_state(link: Link | None, copy_id: int | None = None) -> DealLinkState:
    if link is None:
        return DealLinkState(materials_copy_deal_id=copy_id)
    return DealLinkState(
        order_ref=link.onec.ref,
        fingerprint=link.fingerprint,
        outcome=OrderOutcome(link.extra.get("outcome", OrderOutcome.OPEN.value)),
        materials_copy_deal_id=copy_id,
    )


# --- entry points --------------------------------------------------------------------------------


def sync_deal(deal_id: int, ports: Ports) -> str:
    """Bring the deal's 1C order in line with the deal; returns a short note of what happened."""
    resolved = resolved_config(ports.store).load()
    options = DealFlowOptions.from_mapping(ports.mapping.deal)
    config = OrderConfig(refs=resolved.refs, options=options)
    snapshot = read_snapshot(ports, deal_id)
    run = Run(ports=ports, resolved=resolved, config=config, snapshot=snapshot)
    link = ports.store.links.find_by_b24(deal_ref(deal_id))
    action = order_action(snapshot, link_state(link), resolved.stage_book, ports.mapping.deal)
    try:
        if action.kind is OrderActionKind.CREATE:
            return _create(run)
        if link is not None and action.kind is OrderActionKind.UPDATE:
            return _update(run, link)
        if link is not None and action.kind in (OrderActionKind.COMPLETE, OrderActionKind.CANCEL):
            return _close(run, link, action)
        if action.kind is OrderActionKind.WON_WITHOUT_ORDER:
            return _won_without_order(run)
        if link is not None:
            if action.reason == NO_EXCHANGE_REASON:
                ports.store.audit.record(
                    "deals", f"DEAL-{deal_id}", "NotExchanged", {"reason": action.reason}
                )
            _ensure_writeback(run, link)
        return f"nothing: {action.reason}"
    except ConfigurationError:
        raise  # an operator's problem, not the deal's: no comment on every deal
    except PermanentError as error:
        notify_problem(ports, deal_id, "SyncFailed", f"Сделка не синхронизирована с 1С: {error}", {})
        return f"failed: {error}"


def handle_deal_event(queued: QueuedEvent) -> str | None:
    return sync_deal(queued.id, default_ports())


register(("ONCRMDEALADD", "ONCRMDEALUPDATE"), handle_deal_event)


def forget_caches() -> None:
    """Per-process caches (employees); for tests and after setup. The resolved configuration is
    read once per event (`bridge.store.resolved`), so it needs no forgetting."""
    directory.forget()


# --- create --------------------------------------------------------------------------------------


def _mapped_responsible(run: Run) -> Callable[[], ResponsibleDecision]:
    @cache
    def decide() -> ResponsibleDecision:
        deal = run.snapshot.deal
        return decide_responsible(
            None,
            deal.assigned_by_id,
            run.snapshot.assigned_user,
            directory.employees(run.ports.onec),
            run.ports.mapping.managers,
            run.config.refs.default_responsible,
        )

    return decide


def _products(run: Run) -> dict[int, ProductRefs] | str:
    refs = match_products(run.ports, run.snapshot.ordered_rows, run.resolved)
    missing = [
        row.product_name.strip() or f"товар #{row.product_id}"
        for row in run.snapshot.ordered_rows
        if not row.product_id or row.product_id not in refs
    ]
    if missing:
        names = tuple(dict.fromkeys(missing))
        notify_problem(
            run.ports,
            run.deal_id,
            "UnmatchedProducts",
            unmatched_products_text(names),
            {"products": list(names)},
        )
        return f"not created: no 1C nomenclature for {', '.join(names)}"
    return refs


def free_stock(run: Run, refs: dict[int, ProductRefs]) -> dict[int, Decimal]:
    """Quantity on hand per Bitrix24 product (AccumulationRegister_ЗапасыНаСкладах balance, summed
    over the configured warehouses); reserves are not subtracted (not published in УНФ 1.6 OData)."""
    nomenclature = sorted({r.nomenclature for r in refs.values()})
    if not nomenclature:
        return {}
    condition = any_of(*(eq("Номенклатура_Key", guid(n)) for n in nomenclature))
    if run.resolved.stock_warehouses:
        warehouses = any_of(*(eq("СтруктурнаяЕдиница_Key", guid(w)) for w in run.resolved.stock_warehouses))
        condition = all_of(condition, warehouses)
    rows = run.ports.onec.balance(STOCK_REGISTER, condition=condition, dimensions=["Номенклатура"])
    on_hand: dict[str, Decimal] = {}
    for row in rows:
        key = str(row.get("Номенклатура_Key") or "").lower()
        on_hand[key] = on_hand.get(key, Decimal(0)) + Decimal(str(row.get("КоличествоBalance") or 0))
    return {pid: on_hand.get(r.nomenclature.lower(), Decimal(0)) for pid, r in refs.items()}


def _copy_state(run: Run) -> tuple[int | None, int | None]:
    cursor = run.ports.store.cursors.get(copy_cursor(run.deal_id))
    if cursor is None:
        return None, None
    copy_id = cursor.value.get("copy")
    return (int(copy_id) if copy_id else 0), cursor.version


def _create(run: Run) -> str:
    ports, snapshot = run.ports, run.snapshot
    party = buyer_party(snapshot, run.config.options)
    if party is None:
        text = (
            "Заказ в 1С не создан: у сделки нет ни компании, ни контакта. Укажите клиента и сохраните сделку."
        )
        notify_problem(ports, run.deal_id, "NoBuyer", text, {})
        return "not created: the deal has no company or contact"
    refs = _products(run)
    if isinstance(refs, str):
        return refs
    mapping = ports.mapping.deal
    if mapping.copy_out_of_stock_to_materials and _at_main_trigger(run):
        copy_id, _ = _copy_state(run)
        action = order_action(
            snapshot,
            DealLinkState(materials_copy_deal_id=copy_id),
            run.resolved.stage_book,
            mapping,
            free_stock=free_stock(run, refs),
        )
        if action.kind is OrderActionKind.COPY_TO_MATERIALS:
            return _copy_to_materials(run, action)
        if action.kind is OrderActionKind.NOTHING:
            return f"nothing: {action.reason}"
    mapped = _mapped_responsible(run)
    buyer = resolve_buyer(
        ports,
        party,
        contact_person_for(snapshot),
        run.config.refs,
        responsible_for_new=lambda: mapped().ref,
        deal_id=run.deal_id,
    )
    if buyer.decision.kind is CounterpartyDecisionKind.AMBIGUOUS:
        text = ambiguous_counterparty_text(party.name, buyer.decision.candidates)
        notify_problem(ports, run.deal_id, "AmbiguousCounterparty", text, {"party": party.name})
        return "not created: ambiguous counterparty"
    rule = _responsible_rule(run, buyer, None)
    responsible = _order_responsible(buyer, mapped, rule)
    if responsible.ref is None:
        return _no_responsible(run, "not created")
    draft = _draft(run, buyer, responsible, refs)
    order, created = create_order(ports, draft, run.config)
    order_ref, number = str(order["Ref_Key"]), str(order.get("Number") or "").strip()
    # Before the link: should telling fail, the retry takes the create path again (the order is
    # found by the intent marker) and tells then; each notice is written once.
    _notices_after_write(run, responsible)
    ports.store.links.link(
        deal_ref(run.deal_id),
        OneCRef(entity_set=ORDER_SET, ref=order_ref),
        fingerprint=_fingerprint(draft),
        extra={"outcome": OrderOutcome.OPEN.value, "number": number, **_rule_extra(buyer, rule)},
    )
    if created:
        metrics.add_metric(name="DealOrdersCreated", unit=MetricUnit.Count, value=1)
    _write_back(run, number, order_ref, created_comment=True)
    verb = "created" if created else "found (created by an earlier attempt)"
    return f"order {number} {verb} for deal {run.deal_id}"


def _at_main_trigger(run: Run) -> bool:
    book, mapping = run.resolved.stage_book, run.ports.mapping.deal
    stage = book.stage(run.snapshot.deal.stage_id)
    main = book.funnel(mapping.main_funnel)
    return stage is not None and any(
        t.category_id == main.category_id and t.status_id == stage.status_id
        for t in book.trigger_stages(mapping)
    )


def _responsible_rule(run: Run, buyer: BuyerResult, link: Link | None) -> str:
    """§2.6.1, decided once per (deal, counterparty) and kept on the deal's link: the counterparty's
    manager only when the counterparty existed in 1C before this deal linked it; otherwise the
    order follows the deal's responsible, on create and on every update."""
    counterparty = buyer.decision.ref or ""
    if link is not None and link.extra.get(RULE_COUNTERPARTY) == counterparty:
        kept = link.extra.get(RULE)
        if kept in (FOLLOW_COUNTERPARTY, FOLLOW_DEAL):
            return kept
    return FOLLOW_DEAL if buyer.created_by(run.deal_id) else FOLLOW_COUNTERPARTY


def _rule_extra(buyer: BuyerResult, rule: str) -> dict[str, str]:
    return {RULE: rule, RULE_COUNTERPARTY: buyer.decision.ref or ""}


def _order_responsible(
    buyer: BuyerResult, mapped: Callable[[], ResponsibleDecision], rule: str
) -> ResponsibleDecision:
    """The counterparty's own manager when the rule says so and it has one; else the deal's
    responsible mapped to 1C (e-mail → name → [managers] → the default employee, with a warning)."""
    own = buyer.decision.responsible_ref if rule == FOLLOW_COUNTERPARTY else None
    if own:
        return ResponsibleDecision(ref=own, source=ResponsibleSource.COUNTERPARTY)
    return mapped()


def _no_responsible(run: Run, verb: str) -> str:
    """No employee at all (no match and no default employee resolved): the order is not written."""
    deal = run.snapshot.deal
    text = no_responsible_text(run.snapshot.assigned_user, deal.assigned_by_id)
    notify_problem(run.ports, run.deal_id, "NoResponsible", text, {"assigned_by_id": deal.assigned_by_id})
    return f"{verb}: no 1C employee for the responsible and no default employee (run setup)"


def _notices_after_write(run: Run, responsible: ResponsibleDecision) -> None:
    """What a person should know about an order just written: the default employee stood in
    (§2.6.1), the deal's amount differs from its rows (§2.1.1.11). Each text once per deal."""
    deal = run.snapshot.deal
    if responsible.warning:
        text = responsible_warning_text(run.snapshot.assigned_user, deal.assigned_by_id, True)
        notify_problem(
            run.ports,
            run.deal_id,
            "DefaultResponsible",
            text,
            {"assigned_by_id": deal.assigned_by_id, "employee": responsible.ref},
            channel="responsible",
            log_message="order written with the default employee",
        )
    mismatch = amount_mismatch(run.snapshot)
    if mismatch is not None:
        amount, total = mismatch
        notify_problem(
            run.ports,
            run.deal_id,
            "AmountDiffers",
            amount_mismatch_text(amount, total),
            {"opportunity": str(amount), "rows_total": str(total)},
            channel="amount",
            log_message="deal amount differs from its product rows",
        )


def _draft(
    run: Run, buyer: BuyerResult, responsible: ResponsibleDecision, refs: dict[int, ProductRefs]
) -> OrderDraft:
    counterparty = buyer.decision.counterparty
    if counterparty is None:
        raise PermanentError("no counterparty decided")
    draft = build_order(
        run.snapshot,
        counterparty.ref,
        responsible.ref,
        refs,
        run.config,
        amount_item=amount_item_refs(run.resolved),
    )
    if isinstance(draft, Unmatched):
        raise PermanentError(f"no 1C nomenclature for {', '.join(draft.products)}")
    return draft


def _fingerprint(draft: OrderDraft) -> str:
    return fingerprint(mapped_fingerprint_input(draft))


def _write_back(
    run: Run,
    number: str,
    order_ref: str,
    *,
    created_comment: bool,
    fields: dict[str, Any] | None = None,
) -> None:
    """One batch: the order number and key on the deal, and the "created" comment.

    The "created" comment goes out once even when two workers (or a retry after a crash) both get
    here: a claim per deal decides who writes it, and is settled once Bitrix24 accepted it.
    """
    deal = run.snapshot.deal
    values = deal_writeback(number, order_ref, run.ports.mapping.deal) if fields is None else fields
    commands: dict[str, Command] = {}
    if values:
        commands["update"] = Command("crm.deal.update", {"id": deal.id, "fields": values})
    comment_claim = None
    if created_comment:
        comment_claim = _claim_created_comment(run)
    if comment_claim is not None:
        commands["created"] = Command(
            "crm.timeline.comment.add", timeline_comment(deal.id, order_created_text(number))
        )
    if not commands:
        return
    answer = run.ports.b24.batch(commands)
    if comment_claim is not None:
        name, owner = comment_claim
        if "created" in answer.result:
            run.ports.store.links.settle_claim(
                name, owner, str(answer.result["created"]), keep_s=_COMMENT_KEEP_S
            )
        else:
            run.ports.store.links.release_claim(name, owner)
    if answer.errors:
        # The order and its link exist; the next event (or the sweep) writes these again.
        raise TransientError(f"deal {deal.id}: write-back failed: {next(iter(answer.errors.values()))}")


# Kept as long as a redelivery or a DLQ replay of the deal's first event can come (14 days).
_COMMENT_KEEP_S = 14 * 86_400


def _claim_created_comment(run: Run) -> tuple[str, str] | None:
    """(claim, owner) when this worker is to write the deal's "order created" comment; None when
    it is already written; ClaimHeld (retried) while another worker is writing it."""
    name, owner = f"comment:order-created:deal:{run.deal_id}", f"deals:{uuid.uuid4()}"
    claim = run.ports.store.links.claim(name, owner, keep_s=_COMMENT_KEEP_S)
    if claim.won:
        return name, owner
    if claim.result is not None:
        return None
    raise ClaimHeld(f"deal {run.deal_id}: another worker is writing the order's comment; retried")


def _ensure_writeback(run: Run, link: Link) -> None:
    """Re-send the number and key when a previous write-back was lost (the order is linked)."""
    number = link.extra.get("number", "")
    patch = deal_writeback_patch(run.snapshot.deal.user_fields, number, link.onec.ref, run.ports.mapping.deal)
    if not patch:
        return
    never_written = all(not run.snapshot.deal.user_fields.get(k) for k in patch)
    _write_back(run, number, link.onec.ref, created_comment=never_written, fields=patch)


# --- update and close ----------------------------------------------------------------------------


def _update(run: Run, link: Link) -> str:
    ports = run.ports
    party = buyer_party(run.snapshot, run.config.options)
    if party is None:
        _ensure_writeback(run, link)
        return "nothing: the deal lost its buyer; the order keeps its counterparty"
    refs = _products(run)
    if isinstance(refs, str):
        return refs
    mapped = _mapped_responsible(run)
    buyer = resolve_buyer(
        ports,
        party,
        contact_person_for(run.snapshot),
        run.config.refs,
        responsible_for_new=lambda: mapped().ref,
        deal_id=run.deal_id,
    )
    if buyer.decision.kind is CounterpartyDecisionKind.AMBIGUOUS:
        text = ambiguous_counterparty_text(party.name, buyer.decision.candidates)
        notify_problem(ports, run.deal_id, "AmbiguousCounterparty", text, {"party": party.name})
        return "not updated: ambiguous counterparty"
    rule = _responsible_rule(run, buyer, link)
    responsible = _order_responsible(buyer, mapped, rule)
    if responsible.ref is None:
        return _no_responsible(run, "not updated")
    draft = _draft(run, buyer, responsible, refs)
    new_fingerprint = _fingerprint(draft)
    if new_fingerprint == link.fingerprint:
        _ensure_writeback(run, link)
        return "nothing: the mapped fields are unchanged"
    order = update_order(ports, link.onec.ref, draft)
    number = str(order.get("Number") or link.extra.get("number", "")).strip()
    extra = {**link.extra, "number": number, **_rule_extra(buyer, rule)}
    _notices_after_write(run, responsible)  # before the link, for the same reason as on create
    ports.store.links.link(link.b24, link.onec, fingerprint=new_fingerprint, extra=extra)
    _ensure_writeback(run, link.model_copy(update={"extra": extra}))
    _refresh_stock_of_rows(run)
    return f"order {number} updated for deal {run.deal_id}"


def _refresh_stock_of_rows(run: Run) -> None:
    """§2.2.11.3.6 "при обращении к товарам в Б24": the deal's products show 1C's stock at once.

    Best effort: the order is already right, and the 5-minute stock schedule is the safety net, so
    a failure here is logged, never raised (raising would redo the whole deal).
    """
    from bridge.catalog.stock import refresh_stock

    product_ids = sorted({row.product_id for row in run.snapshot.ordered_rows if row.product_id})
    if not product_ids:
        return
    try:
        refresh_stock(product_ids, run.ports)
    except BridgeError as error:
        logger.warning(
            "stock refresh after a deal change failed", extra={"deal": run.deal_id, "error": str(error)}
        )


def _close(run: Run, link: Link, action: OrderAction) -> str:
    """WON → the order completed and its shipment made (and posted, if configured); LOSE → the
    order cancelled. The link says "closed" only once all of it is done, so a won deal whose
    shipment failed is closed again by the queue's retry, the next event or the sweep."""
    won = action.kind is OrderActionKind.COMPLETE
    order = close_order(run.ports, link.onec.ref, "won" if won else "lost", run.config)
    extra = {**link.extra, "outcome": (OrderOutcome.COMPLETED if won else OrderOutcome.CANCELLED).value}
    note = f"order {extra.get('number', link.onec.ref)} {'completed' if won else 'cancelled'}"
    if won:
        try:
            shipment, created = ensure_shipment(run.ports, order, run.config)
        except BridgeError as error:
            _shipment_failed(run, link, error)
            raise TransientError(f"deal {run.deal_id}: shipment not done, retried: {error}") from error
        extra["shipment"] = shipment
        note += f"; shipment {shipment} {'created' if created else 'already there'}"
    run.ports.store.links.link(link.b24, link.onec, fingerprint=link.fingerprint, extra=extra)
    return note


def _shipment_failed(run: Run, link: Link, error: BridgeError) -> None:
    """1C refused the shipment (or its posting): tell the manager once; a passing outage (1C
    down) is only logged and audited, the retry will most likely just work."""
    number = link.extra.get("number", "")
    detail = {"order": link.onec.ref, "error": str(error)}
    if isinstance(error, TransientError):
        run.ports.store.audit.record("deals", f"DEAL-{run.deal_id}", "ShipmentRetry", detail)
        logger.warning("shipment of a won deal failed; retried", extra={"deal_id": run.deal_id, **detail})
        return
    notify_problem(
        run.ports,
        run.deal_id,
        "ShipmentFailed",
        shipment_failed_text(number, str(error)),
        detail,
        channel="shipment",
        log_message="shipment of a won deal refused by 1C; retried",
    )


def _won_without_order(run: Run) -> str:
    """§2.1.1.17: "won" must reach 1C, but there is no order to close: a person must know."""
    copy_id, _ = _copy_state(run)
    if copy_id:
        # The order belongs to the copy in the materials funnel; that deal closes it.
        run.ports.store.audit.record("deals", f"DEAL-{run.deal_id}", "WonWithoutOrder", {"copy": copy_id})
        logger.info("won deal without an order: its copy carries the order", extra={"deal_id": run.deal_id})
        return f"nothing: the deal is won; its order belongs to the copy, deal {copy_id}"
    notify_problem(
        run.ports,
        run.deal_id,
        "WonWithoutOrder",
        won_without_order_text(),
        {"stage": run.snapshot.deal.stage_id},
        channel="won",
        log_message="won deal has no 1C order",
    )
    return "reported: the deal is won but has no 1C order"


# --- out of stock --------------------------------------------------------------------------------


def _copy_to_materials(run: Run, action: OrderAction) -> str:
    """Copy the deal into the materials funnel (fields, rows, a note linking the original) in one
    batch; a cursor claimed first makes sure a retry never copies twice."""
    ports, deal = run.ports, run.snapshot.deal
    name = copy_cursor(deal.id)
    try:
        claimed = ports.store.cursors.put(name, {"copy": None})
    except CursorConflict:
        return "nothing: the deal is being copied to the materials funnel by another attempt"
    fields = materials_copy_fields(run.snapshot, action)
    note = f"Копия сделки #{deal.id}: товара нет в наличии."
    fields["COMMENTS"] = f"{fields.get('COMMENTS', '')}\n{note}".strip()
    commands = {
        "copy": Command("crm.deal.add", {"fields": fields}),
        "rows": Command(
            "crm.deal.productrows.set", {"id": "$result[copy]", "rows": materials_copy_rows(run.snapshot)}
        ),
    }
    answer = ports.b24.batch(commands, halt=True)
    if "copy" not in answer.result:
        raise TransientError(f"deal {deal.id}: copy to the materials funnel failed: {answer.errors}")
    copy_id = int(answer.result["copy"])
    ports.store.cursors.put(name, {"copy": copy_id}, expected_version=claimed.version)
    ports.b24.call("crm.timeline.comment.add", timeline_comment(deal.id, out_of_stock_text(action, copy_id)))
    ports.store.audit.record(
        "deals",
        f"DEAL-{deal.id}",
        "CopiedToMaterials",
        {"copy": copy_id, "short": [p.name for p in action.short_products]},
    )
    metrics.add_metric(name="DealCopiedToMaterials", unit=MetricUnit.Count, value=1)
    return f"out of stock: copied to the materials funnel as deal {copy_id}"
