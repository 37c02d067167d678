"""What one order's recompute writes to its deal, pure (beside `rules.py`).

`plan_writes` turns the order's payment summary, the deal and the order's sync state into the
Bitrix24 commands of one batch, each under a typed `CommandKey`, plus the remarks (log lines and
audit items) the run leaves. `recompute.py` sends the batch and keeps what succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bridge.b24.batching import CommandLike
from bridge.config.deal import DealMapping
from bridge.config.payments import PaymentFieldCodes, PaymentsMapping
from bridge.domain.fingerprint import fingerprint
from bridge.payments import registry as registry_list
from bridge.payments import rules, text
from bridge.payments.models import AnnouncedPayment, DealFacts, PaymentDoc, PaymentSummary
from bridge.payments.resolved import ResolvedPayments
from bridge.payments.state import OrderSyncState


class CommandKind(StrEnum):
    DEAL = "deal"  # the deal's fields (and stage)
    NOTIFY = "notify"  # a new payment told to the responsible
    WITHDRAWN = "withdrawn"  # an announced payment withdrawn in 1C
    REGISTRY = "registry"  # a payment entered in the registry (business process or list element)
    REGISTRY_UPDATE = "registry-update"  # a list element rewritten (withdrawn / standing again)


@dataclass(frozen=True, order=True)
class CommandKey:
    """One command of the deal's batch: what it does and for which payment."""

    kind: CommandKind
    payment: str = ""  # the payment's Ref_Key; empty for the deal update

    @property
    def wire(self) -> str:
        """The batch command name (also what the audit item lists)."""
        return self.kind.value if not self.payment else f"{self.kind.value}:{self.payment}"


DEAL_KEY = CommandKey(CommandKind.DEAL)


@dataclass(frozen=True)
class Remark:
    """A log line the run leaves, and the audit item beside it when `audit` names one."""

    message: str
    extra: dict[str, Any]
    warning: bool = False
    audit: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # the audit item's


@dataclass
class PaymentsPlan:
    deal_id: int
    order_ref: str
    commands: dict[CommandKey, CommandLike] = field(default_factory=dict)
    fields_fingerprint: str = ""
    stage: str | None = None
    new_payments: tuple[PaymentDoc, ...] = ()
    withdrawn: tuple[AnnouncedPayment, ...] = ()
    to_register: tuple[PaymentDoc, ...] = ()
    # Registry list elements written by this plan: command key → FIELDS.
    list_writes: dict[CommandKey, dict[str, Any]] = field(default_factory=dict)
    remarks: list[Remark] = field(default_factory=list)

    def sent(self, key: CommandKey) -> bool:
        return key in self.commands


def plan_writes(
    summary: PaymentSummary,
    deal: DealFacts,
    state: OrderSyncState,
    resolved: ResolvedPayments,
    options: PaymentsMapping,
    *,
    codes: PaymentFieldCodes,
    portal_url: str,
    deal_mapping: DealMapping,
) -> PaymentsPlan:
    fields = rules.mapped_fields(summary, codes, resolved.enum_ids, options.currency)
    plan = PaymentsPlan(deal_id=deal.id, order_ref=summary.order.ref, fields_fingerprint=fingerprint(fields))
    counted = {p.ref for p in summary.counted}
    plan.new_payments = tuple(p for p in summary.counted if p.ref not in state.announced)
    plan.withdrawn = tuple(a for ref, a in state.announced.items() if ref not in counted)
    plan.to_register = tuple(p for p in summary.counted if p.ref not in state.registered)

    candidates: list[str | None] = []
    if plan.new_payments and rules.moves_stage_on_payment(summary, options):
        candidates.append(resolved.feedback_stage.get(deal.category_id))
    order_state = summary.order.state_ref
    if order_state and order_state != state.last_state:
        candidates.append(_state_stage(plan, resolved, deal, order_state, deal_mapping))
    target = rules.forward_target(deal, candidates, resolved.stages)

    update: dict[str, Any] = {} if plan.fields_fingerprint == state.fields_fingerprint else dict(fields)
    if target is not None:
        update["STAGE_ID"] = target.status_id
        plan.stage = target.status_id
    if update:
        plan.commands[DEAL_KEY] = ("crm.deal.update", {"id": deal.id, "fields": update})
    if options.notify and deal.assigned_by_id is not None:
        for payment in plan.new_payments:
            message = text.payment_message(summary, payment, deal, portal_url, options.currency)
            plan.commands[CommandKey(CommandKind.NOTIFY, payment.ref)] = _notice(
                options, deal, text.payment_tag(payment.ref), message
            )
        for gone in plan.withdrawn:
            message = text.withdrawal_message(summary, gone, deal, portal_url, options.currency)
            plan.commands[CommandKey(CommandKind.WITHDRAWN, gone.ref)] = _notice(
                options, deal, text.withdrawal_tag(gone.ref), message
            )
    mode = options.registry.mode
    if mode == "bizproc":
        for payment in plan.to_register:
            key = CommandKey(CommandKind.REGISTRY, payment.ref)
            plan.commands[key] = _bizproc_command(options, summary, payment, deal)
    elif mode == "list":
        _plan_list(options, resolved, summary, deal, state, plan)
    else:
        plan.to_register = ()
    return plan


def _state_stage(
    plan: PaymentsPlan,
    resolved: ResolvedPayments,
    deal: DealFacts,
    order_state: str,
    deal_mapping: DealMapping,
) -> str | None:
    """The stage the order's new 1C state maps to in the deal's funnel (§1.8.2), if it applies."""
    mapped = resolved.state_stage.get(deal.category_id, {}).get(order_state)
    if mapped is not None and resolved.stages.no_exchange_after_order(deal.category_id, deal_mapping):
        # §2.2.8: after the order exists this funnel works without 1C (deal.no_exchange_…).
        plan.remarks.append(
            Remark(
                "payments: order states do not move deals in this funnel",
                {"deal": deal.id},
                audit="StateNotApplied",
                detail={"state": order_state},
            )
        )
        return None
    if mapped is None:
        plan.remarks.append(
            Remark(
                "payments: order state has no stage in this funnel",
                {"state": resolved.state_names.get(order_state, order_state), "funnel": deal.category_id},
            )
        )
    return mapped


def _list_target(options: PaymentsMapping, resolved: ResolvedPayments) -> tuple[str, dict[str, str]] | None:
    """The registry list: one the customer configured, else the one setup made."""
    registry = options.registry
    if registry.list_iblock_id:
        return registry.list_iblock_id, dict(registry.list_fields)
    if resolved.registry_list_id:
        return resolved.registry_list_id, dict(resolved.registry_list_fields)
    return None


def _plan_list(
    options: PaymentsMapping,
    resolved: ResolvedPayments,
    summary: PaymentSummary,
    deal: DealFacts,
    state: OrderSyncState,
    plan: PaymentsPlan,
) -> None:
    """One element per counted payment; an unposted one is rewritten as withdrawn, a payment posted
    again as standing (the element's code is the payment's Ref_Key: never a second element)."""
    registry = options.registry
    target = _list_target(options, resolved)
    if target is None:
        if plan.to_register:
            plan.remarks.append(
                Remark(
                    "payments: registry list not set up, payments wait for it (run setup)",
                    {"order": summary.order.ref, "payments": [p.ref for p in plan.to_register]},
                    warning=True,
                )
            )
        plan.to_register = ()
        return
    iblock_id, field_ids = target
    state_field = field_ids.get("state")

    def fields_of(payment: PaymentDoc, standing: str) -> dict[str, Any]:
        values = text.registry_values(summary, payment, options, deal.id)
        if payment.date is not None:
            values["date"] = payment.date.strftime(registry.list_date_format)
        name = text.registry_element_name(summary, payment)
        return registry_list.element_fields(name, values, field_ids, standing)

    def write(key: CommandKey, method: str, fields: dict[str, Any]) -> None:
        plan.commands[key] = (
            method,
            {
                "IBLOCK_TYPE_ID": registry.list_iblock_type_id,
                "IBLOCK_ID": iblock_id,
                "ELEMENT_CODE": key.payment,  # unique per list: a repeat is refused, never duplicated
                "FIELDS": fields,
            },
        )
        plan.list_writes[key] = fields

    for payment in plan.to_register:
        write(
            CommandKey(CommandKind.REGISTRY, payment.ref),
            "lists.element.add",
            fields_of(payment, registry.posted_text),
        )
    if state_field is None:
        return  # a customer's list without a state field: elements are added, never rewritten
    counted = {p.ref: p for p in summary.counted}
    for ref, written in state.listed.items():
        standing = written.get(state_field) != registry.withdrawn_text
        if ref not in counted and standing:
            fields = {**written, state_field: registry.withdrawn_text}
        elif ref in counted and not standing:
            fields = fields_of(counted[ref], registry.posted_text)
        else:
            continue
        write(CommandKey(CommandKind.REGISTRY_UPDATE, ref), "lists.element.update", fields)


def _notice(options: PaymentsMapping, deal: DealFacts, tag: str, message: str) -> CommandLike:
    return (
        "im.notify.system.add",
        {
            "USER_ID": deal.assigned_by_id,
            "MESSAGE": message,
            "TAG": tag,
            "CLIENT_ID": options.notify_client_id,
        },
    )


def _bizproc_command(
    options: PaymentsMapping, summary: PaymentSummary, payment: PaymentDoc, deal: DealFacts
) -> CommandLike:
    registry = options.registry
    values = text.registry_values(summary, payment, options, deal.id)
    parameters = {name: values[key] for key, name in registry.bizproc_parameters.items() if key in values}
    return (
        "bizproc.workflow.start",
        {
            "TEMPLATE_ID": registry.bizproc_template_id,
            "DOCUMENT_ID": ["crm", "CCrmDocumentDeal", f"DEAL_{deal.id}"],
            "PARAMETERS": parameters,
        },
    )
