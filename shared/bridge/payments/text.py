"""What the responsible manager reads and what the registry records (§1.8.4, §2.6.3, §2.1.1.13)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bridge.config.payments import EnumLabels, PaymentsMapping
from bridge.payments.models import AnnouncedPayment, DealFacts, PaymentDoc, PaymentSummary

TAG_PREFIX = "1c-pay-"


def payment_tag(payment_ref: str) -> str:
    """One TAG per payment, so a repeated notice replaces the earlier one instead of adding one."""
    return f"{TAG_PREFIX}{payment_ref}"


def withdrawal_tag(payment_ref: str) -> str:
    return f"{TAG_PREFIX}{payment_ref}-withdrawn"


def amount_text(amount: Decimal, currency: str) -> str:
    whole = f"{amount.quantize(Decimal('0.01')):,.2f}".replace(",", " ")
    return f"{whole} {'руб.' if currency == 'RUB' else currency}"


def deal_link(portal_url: str, deal: DealFacts) -> str:
    title = deal.title or f"Сделка #{deal.id}"
    return f"[URL={portal_url.rstrip('/')}/crm/deal/details/{deal.id}/]{title}[/URL]"


def _date(payment: PaymentDoc) -> str:
    return payment.date.strftime("%d.%m.%Y") if payment.date else "—"


def _order_paid(summary: PaymentSummary, currency: str) -> tuple[str, str]:
    """(the order as named in 1C, "paid X of Y") for the texts below."""
    paid, total = amount_text(summary.paid, currency), amount_text(summary.order.amount, currency)
    return f"по заказу № {summary.order.number}", f"{paid} из {total}"


def payment_message(
    summary: PaymentSummary, payment: PaymentDoc, deal: DealFacts, portal_url: str, currency: str
) -> str:
    order, paid = _order_paid(summary, currency)
    amount = amount_text(summary.amount_of(payment), currency)
    return (
        f"Поступила оплата {amount} от {_date(payment)} {order} (оплачено {paid}). "
        f"Сделка: {deal_link(portal_url, deal)}"
    )


def withdrawal_message(
    summary: PaymentSummary, announced: AnnouncedPayment, deal: DealFacts, portal_url: str, currency: str
) -> str:
    order, paid = _order_paid(summary, currency)
    amount = amount_text(announced.amount, currency)
    return (
        f"Оплата № {announced.number} от {announced.date} на {amount} {order} отменена в 1С (проведение "
        f"снято или документ удалён). Оплачено теперь {paid}. Сделка: {deal_link(portal_url, deal)}"
    )


def label_of(labels: EnumLabels, key: str | None) -> str:
    return str(getattr(labels, key)) if key else ""


def registry_values(
    summary: PaymentSummary, payment: PaymentDoc, options: PaymentsMapping, deal_id: int | None = None
) -> dict[str, Any]:
    """The payment's own values by logical name (date, type, amount, method, comment, order number,
    deal, 1C document key)."""
    values: dict[str, Any] = {
        "date": payment.date.date().isoformat() if payment.date else "",
        "type": label_of(options.labels, summary.payment_type.value if summary.payment_type else None),
        "amount": str(summary.amount_of(payment).quantize(Decimal("0.01"))),
        "method": label_of(options.labels, payment.kind.method.value),
        "comment": payment.comment or payment.purpose,
        "order_number": summary.order.number,
        "payment_number": payment.number,
        "payment_ref": payment.ref,
    }
    if deal_id is not None:
        values["deal"] = str(deal_id)
    return values


def registry_element_name(summary: PaymentSummary, payment: PaymentDoc) -> str:
    return f"Оплата № {payment.number} от {_date(payment)} по заказу № {summary.order.number}"
