"""Payments setup step: the payment deal fields and their option ids, the feedback stage in each
funnel, the order-state → stage table, the closed order states, and the payment registry list
«Реестр оплат» (created when missing: `bridge.payments.registry`); stored as `CONFIG#payments`.

The deal step creates the same fields first (`bridge.setup.deal_card.user_field_specs`); running it
again here is a no-op that also yields the option ids, so this step works on its own too.
"""

from __future__ import annotations

from bridge.config.deal import StageRef
from bridge.config.payments import EnumLabels, PaymentFieldCodes, PaymentsMapping
from bridge.domain.onec_sets import ORDER_STATES
from bridge.domain.stages import StageBook
from bridge.errors import ConfigurationError
from bridge.payments.registry import RegistryList, ensure_list
from bridge.payments.resolved import ResolvedPayments, resolved_config
from bridge.ports import Ports
from bridge.setup.b24_fields import ensure_user_fields
from bridge.setup.deal_card import read_stage_book, user_field_specs
from bridge.setup.framework import SetupProblem
from bridge.setup.onec_names import find_by_description

type Results = list[SetupProblem | str]
_OPTIONS = {
    "pay_type": ("prepayment", "full_payment", "postpayment"),
    "pay_status": ("not_paid", "partially_paid", "paid"),
    "pay_method": ("non_cash", "cash"),
}


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _enum_ids(
    codes: PaymentFieldCodes, labels: EnumLabels, options: dict[str, dict[str, int]]
) -> tuple[dict[str, dict[str, str]], Results]:
    resolved: dict[str, dict[str, str]] = {}
    problems: Results = []
    for field, keys in _OPTIONS.items():
        code = str(getattr(codes, field))
        by_value = {_key(value): option_id for value, option_id in options.get(code, {}).items()}
        resolved[field] = {}
        for key in keys:
            label = str(getattr(labels, key))
            if _key(label) in by_value:
                resolved[field][key] = str(by_value[_key(label)])
            else:
                problems.append(
                    SetupProblem(
                        "Bitrix24 deal user fields",
                        f"{code} has no list value {label!r}",
                        "add it in Bitrix24 or correct [payments.labels], then run setup again",
                    )
                )
    return resolved, problems


def _stages(
    ports: Ports, book: StageBook, feedback: str, options: PaymentsMapping
) -> tuple[dict[int, str], dict[int, dict[str, str]], dict[str, str], Results]:
    results: Results = []
    feedback_stage = {
        funnel.category_id: stage.status_id
        for funnel in book.funnels
        for stage in funnel.stages
        if _key(stage.name) == _key(feedback)
    }
    if not feedback_stage:
        results.append(
            SetupProblem(
                "Bitrix24 deal funnels",
                f"no funnel has the stage {feedback!r}",
                "create it or correct [deal] feedback_stage",
            )
        )
    state_stage: dict[int, dict[str, str]] = {}
    state_names: dict[str, str] = {}
    for rule in options.state_stages:
        state_ref, problem = find_by_description(
            ports.onec, ORDER_STATES, rule.state, setting="[payments] state_stages"
        )
        if problem is not None or state_ref is None:
            results.append(problem or SetupProblem(f"1C {ORDER_STATES}", rule.state, "check the name"))
            continue
        try:
            stage = book.resolve(StageRef(funnel=rule.funnel, stage=rule.stage))
        except ConfigurationError as error:
            results.append(
                SetupProblem("Bitrix24 deal funnels", str(error), "correct [payments] state_stages")
            )
            continue
        state_stage.setdefault(stage.category_id, {})[state_ref] = stage.status_id
        state_names[state_ref] = rule.state
    return feedback_stage, state_stage, state_names, results


def _closed_states(ports: Ports, options: PaymentsMapping) -> tuple[list[str], Results]:
    refs: list[str] = []
    results: Results = []
    for name in options.closed_states:
        ref, problem = find_by_description(ports.onec, ORDER_STATES, name, setting="[payments] closed_states")
        if problem is not None or ref is None:
            results.append(problem or SetupProblem(f"1C {ORDER_STATES}", name, "check the name"))
        else:
            refs.append(ref)
    return refs, results


def setup(ports: Ports, *, dry_run: bool) -> list[SetupProblem | str]:
    options = ports.mapping.payments
    codes = PaymentFieldCodes.of(ports.mapping.deal)
    wanted = set(codes.model_dump().values())
    specs = [spec for spec in user_field_specs(ports.mapping.deal, options.labels) if spec.code in wanted]
    field_options, results = ensure_user_fields(ports.b24, "deal", specs, dry_run=dry_run)
    results = list(results)
    enum_ids, problems = _enum_ids(codes, options.labels, field_options)
    book = read_stage_book(ports.b24)
    feedback, state_stage, state_names, stage_problems = _stages(
        ports, book, ports.mapping.deal.feedback_stage, options
    )
    results += problems + stage_problems
    closed, closed_problems = _closed_states(ports, options)
    results += closed_problems
    registry = options.registry
    made: RegistryList | None = None
    if registry.mode == "none":
        results.append('payment registry: switched off ([payments.registry] kind = "none")')
    elif registry.mode == "bizproc":
        results.append(f"payment registry: business process template {registry.bizproc_template_id}")
    elif registry.list_iblock_id:
        results.append(f"payment registry: the configured list {registry.list_iblock_id}")
    else:
        made, list_results = ensure_list(ports.b24, registry, dry_run=dry_run)
        results += list_results
    if dry_run or problems:
        return results  # without option ids the flow cannot write the fields
    resolved_config(ports.store).save(
        ResolvedPayments(
            enum_ids=enum_ids,
            stages=book,
            feedback_stage=feedback,
            state_stage=state_stage,
            state_names=state_names,
            closed_states=closed,
            registry_list_id=made.iblock_id if made else "",
            registry_list_fields=made.fields if made else {},
        )
    )
    results.append(
        f"stored CONFIG#payments: feedback stage in {len(feedback)} funnel(s), "
        f"{sum(len(v) for v in state_stage.values())} order-state rule(s)"
    )
    return results
