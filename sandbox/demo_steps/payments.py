"""Payments walk for the demo, and the scenario helpers the payments tests and benchmark share.

`PaymentsWorld` drives both emulators and SyncTable through the real APIs: a deal in Bitrix24, an
order in 1C linked to it (what the deal flow leaves behind), payments posted and unposted in 1C,
order states changed, and the Bitrix24 call journal read back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from bridge.b24.client import B24Client
from bridge.b24.ratelimit import LocalBucket
from bridge.deps import Ports
from bridge.onec.client import ODataClient
from bridge.payments.config import RegistryOptions
from bridge.payments.models import BANK_SET, CARD_SET, CASH_SET, ORDER_SET, ORDER_TYPE, SHIPMENT_SET
from bridge.payments.setup import setup as payments_setup
from bridge.settings import Mapping
from bridge.store import SyncStore
from bridge.store.models import B24Ref, OneCRef
from sandbox.onec.seed import seed_ref

if TYPE_CHECKING:
    from sandbox.local.stack import LocalStack

log = logging.getLogger("sandbox.demo.payments")

ONEC_USER = ONEC_PASSWORD = "odata"
BIZPROC_TEMPLATE_ID = 7
REGISTRY_CODE = RegistryOptions().list_code
STATES = "Catalog_СостоянияЗаказовПокупателей"


def onec_time(*, minutes: int = 0) -> str:
    """1C local time (UTC+3, no zone) `minutes` from now: documents dated inside the poll window."""
    moment = datetime.now(UTC) + timedelta(hours=3, minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class PaymentsWorld:
    b24_webhook_url: str
    onec_base_url: str
    table_name: str
    dynamodb: Any  # boto3 DynamoDB client
    mapping: Mapping

    @classmethod
    def of_stack(cls, stack: LocalStack, mapping: Mapping) -> PaymentsWorld:
        table = next(iter(stack.model.tables.values())).name
        return cls(stack.b24_webhook_url, stack.onec_base_url, table, stack.client("dynamodb"), mapping)

    # -- clients --------------------------------------------------------------------------------
    def ports(self, *, onec_attempts: int = 4) -> Ports:
        return Ports(
            b24=B24Client(self.b24_webhook_url, limiter=LocalBucket(), backoff_base_s=0.01),
            onec=ODataClient(
                self.onec_base_url, ONEC_USER, ONEC_PASSWORD, max_attempts=onec_attempts, backoff_base_s=0.01
            ),
            store=SyncStore(self.table_name, self.dynamodb),
            mapping=self.mapping,
        )

    def setup(self) -> list[str]:
        return [str(line) for line in payments_setup(self.ports(), dry_run=False)]

    # -- Bitrix24 ---------------------------------------------------------------------------------
    def _b24(self, method: str, params: dict[str, Any]) -> Any:
        answer = httpx.post(f"{self.b24_webhook_url}{method}.json", json=params, timeout=10)
        answer.raise_for_status()
        return answer.json()["result"]

    def new_deal(self, title: str, *, category: int = 0, assigned: int = 2, stage: str | None = None) -> int:
        fields: dict[str, Any] = {"TITLE": title, "CATEGORY_ID": category, "ASSIGNED_BY_ID": assigned}
        if stage:
            fields["STAGE_ID"] = stage
        return int(self._b24("crm.deal.add", {"fields": fields}))

    def deal(self, deal_id: int) -> dict[str, Any]:
        result: dict[str, Any] = self._b24("crm.deal.get", {"id": deal_id})
        return result

    def shown(self, deal_id: int, code: str) -> str:
        """A deal field as a person reads it: enumeration option ids turned into their text."""
        value = self.deal(deal_id).get(code)
        rows = self._b24("crm.deal.userfield.list", {"filter": {"FIELD_NAME": code}})
        options = {str(o["ID"]): str(o["VALUE"]) for row in rows for o in row.get("LIST") or []}
        return options.get(str(value), str(value or ""))

    def move_deal(self, deal_id: int, stage: str) -> None:
        self._b24("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": stage}})

    def sandbox(self, path: str) -> Any:
        return httpx.get(f"{origin(self.b24_webhook_url)}/_sandbox/{path}", timeout=10).json()

    def b24_cursor(self) -> int:
        return int(self.sandbox("calls")["cursor"] or 0)

    def b24_calls(self, since: int = 0) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = self.sandbox(f"calls?since={since}")["calls"]
        return calls

    def notifications(self, user_id: int | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.sandbox("notifications")
        return [r for r in rows if user_id is None or int(r["user_id"]) == user_id]

    def workflows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.sandbox("workflows")
        return rows

    def audit(self, flow: str) -> list[dict[str, Any]]:
        """Today's audit items of a flow, as the operations guide reads them (subject, outcome,
        and the detail's keys)."""
        store = SyncStore(self.table_name, self.dynamodb)
        return [
            {"subject": entry.subject, "outcome": entry.outcome, **entry.detail}
            for entry in store.audit.list(datetime.now(UTC).date())
            if entry.flow == flow
        ]

    # -- 1C -------------------------------------------------------------------------------------
    def onec(self) -> ODataClient:
        return ODataClient(self.onec_base_url, ONEC_USER, ONEC_PASSWORD, max_attempts=1)

    def onec_sandbox(self, path: str, payload: Any | None = None, method: str = "POST") -> Any:
        root = origin(self.onec_base_url)
        answer = httpx.request(method, f"{root}/_sandbox/{path}", json=payload, timeout=10)
        return answer.json() if answer.content else None

    def linked_deal(self, stage: str = "PREPAYMENT_INVOICE", category: int = 0) -> tuple[int, str]:
        """A deal of manager 3 linked to a new 1C order of 1 250.00 (100 × 12.50), as the deal flow
        leaves them."""
        deal_id = self.new_deal("Поставка болтов", assigned=3, stage=stage, category=category)
        order_ref = self.new_order(quantity=100, price=12.5)
        self.link(deal_id, order_ref)
        return deal_id, order_ref

    def new_order(self, quantity: int = 100, price: float = 12.5) -> str:
        """A customer order like the deal flow writes (sum = quantity × price)."""
        total = quantity * price
        body = {
            "Date": onec_time(minutes=-60),
            "ВидОперации": "ЗаказНаПродажу",
            "Организация_Key": seed_ref("Catalog_Организации", 'ООО "Металл-Сервис"'),
            "Контрагент_Key": seed_ref("Catalog_Контрагенты", "Альфа-Строй ООО"),
            "СостояниеЗаказа": seed_ref(STATES, "Новый"),
            "СостояниеЗаказа_Type": f"StandardODATA.{STATES}",
            "Запасы": [
                {
                    "LineNumber": 1,
                    "Номенклатура_Key": seed_ref("Catalog_Номенклатура", "Болт М10х50"),
                    "Количество": quantity,
                    "Цена": price,
                    "Сумма": total,
                    "Всего": total,
                }
            ],
        }
        with self.onec() as onec:
            return str(onec.create(ORDER_SET, body)["Ref_Key"])

    def link(self, deal_id: int, order_ref: str) -> None:
        SyncStore(self.table_name, self.dynamodb).links.link(
            B24Ref(entity="DEAL", id=str(deal_id)),
            OneCRef(entity_set=ORDER_SET, ref=order_ref),
            fingerprint="-",
        )

    def order_number(self, order_ref: str) -> str:
        with self.onec() as onec:
            return str(onec.get(ORDER_SET, order_ref, select="Number")["Number"])

    def pay(
        self,
        order_ref: str,
        amount: Decimal | float,
        *,
        cash: bool = False,
        card: bool = False,
        comment: str = "",
        date: str | None = None,
        post: bool = True,
        advance: bool = True,
        operation: str | None = None,
    ) -> str:
        """A customer's receipt against the order, as a manager enters it in 1C: bank (default),
        cash or payment card; `advance` is 1C's own `ПризнакАванса` of the breakdown row (1C fills
        it: an advance unless the payment settles goods already shipped)."""
        entity_set = payment_set(cash=cash, card=card)
        row: dict[str, Any] = {"LineNumber": 1, "СуммаПлатежа": float(amount), "ПризнакАванса": advance}
        if card:
            row["Заказ_Key"] = order_ref  # single-typed on the card document (fidelity notes §5)
        else:
            row |= {"Заказ": order_ref, "Заказ_Type": ORDER_TYPE}
        default_operation = "ПоступлениеОплатыОтПокупателя" if card else "ОтПокупателя"
        body = {
            "Date": date or onec_time(minutes=-1),
            "ВидОперации": operation or default_operation,
            "Контрагент_Key": seed_ref("Catalog_Контрагенты", "Альфа-Строй ООО"),
            "СуммаДокумента": float(amount),
            "Комментарий": comment,
            "РасшифровкаПлатежа": [row],
        }
        with self.onec() as onec:
            ref = str(onec.create(entity_set, body)["Ref_Key"])
            if post:
                onec.post_document(entity_set, ref)
        return ref

    def unpost(self, payment_ref: str, *, cash: bool = False, card: bool = False) -> None:
        with self.onec() as onec:
            onec.unpost_document(payment_set(cash=cash, card=card), payment_ref)

    def repost(self, payment_ref: str, *, cash: bool = False, card: bool = False) -> None:
        with self.onec() as onec:
            onec.post_document(payment_set(cash=cash, card=card), payment_ref)

    def ship(self, order_ref: str, *, date: str | None = None) -> str:
        """A posted shipment (РасходнаяНакладная) of the order's goods."""
        body = {
            "Date": date or onec_time(minutes=-30),
            "ВидОперации": "ПродажаПокупателю",
            "Организация_Key": seed_ref("Catalog_Организации", 'ООО "Металл-Сервис"'),
            "Контрагент_Key": seed_ref("Catalog_Контрагенты", "Альфа-Строй ООО"),
            "Заказ": order_ref,
            "Заказ_Type": ORDER_TYPE,
        }
        with self.onec() as onec:
            ref = str(onec.create(SHIPMENT_SET, body)["Ref_Key"])
            onec.post_document(SHIPMENT_SET, ref)
        return ref

    def registry_elements(self) -> list[dict[str, Any]]:
        """Elements of the payment registry list, with each field by its list field's name, as a
        person reads them in Bitrix24 (values from `lists.element.get`, names from `lists.field.get`)."""
        [listing] = self._b24("lists.get", {"IBLOCK_TYPE_ID": "lists", "IBLOCK_CODE": REGISTRY_CODE})
        where = {"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": listing["ID"]}
        names = {f["FIELD_ID"]: f["NAME"] for f in self._b24("lists.field.get", where).values()}
        shown: list[dict[str, Any]] = []
        for element in self._b24("lists.element.get", where):
            row = {"NAME": element["NAME"], "CODE": element["CODE"]}
            for key, value in element.items():
                if key.startswith("PROPERTY_"):
                    values = list(value.values()) if isinstance(value, dict) else [value]
                    row[names.get(key, key)] = values[0] if len(values) == 1 else values
            shown.append(row)
        return shown

    def set_state(self, order_ref: str, state: str) -> None:
        with self.onec() as onec:
            onec.update(
                ORDER_SET,
                order_ref,
                {
                    "СостояниеЗаказа": seed_ref(STATES, state),
                    "СостояниеЗаказа_Type": f"StandardODATA.{STATES}",
                },
            )


def payment_set(*, cash: bool = False, card: bool = False) -> str:
    return CARD_SET if card else CASH_SET if cash else BANK_SET


def run(stack: LocalStack, say: Callable[[str], None]) -> None:
    """Continue the deal walk: pay the deal's order in 1C, run the poll, show the deal's stage and
    fields, then close the deal as won (order completed, shipment made)."""
    from bridge.settings import load_mapping
    from sandbox.demo_steps import deals

    deal_id = deals.LAST_DEAL.get(stack.api_url)
    if deal_id is None:
        raise RuntimeError("the deal step made no deal to pay for")
    world = PaymentsWorld.of_stack(stack, load_mapping(None))
    order_ref = str(world.deal(deal_id)["UF_CRM_1C_ORDER_REF"])
    number = world.order_number(order_ref)
    payment = world.pay(order_ref, 600, comment="Оплата по счёту")
    say(f"1C       → bank receipt {payment} posted: 600.00 against order № {number}")
    answer = httpx.post(f"{stack.api_url}/_local/invoke/PaymentsPollFunction", json={}, timeout=120)
    say(f"poll     → HTTP {answer.status_code} {answer.text[:200]}")
    deal = world.deal(deal_id)
    stages = world._b24("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})
    stage_name = next((s["NAME"] for s in stages if s["STATUS_ID"] == deal["STAGE_ID"]), "")
    say(f"Bitrix24 → deal {deal_id} stage {deal['STAGE_ID']} «{stage_name}»")
    for code in ("UF_CRM_1C_PAY_DATE", "UF_CRM_1C_PAY_TYPE", "UF_CRM_1C_PAID", "UF_CRM_1C_PAY_METHOD"):
        say(f"Bitrix24 → {code} = {world.shown(deal_id, code)}")
    for code in ("UF_CRM_1C_PAY_COMMENT", "UF_CRM_1C_PAY_STATUS", "UF_CRM_1C_ORDER_SUM"):
        say(f"Bitrix24 → {code} = {world.shown(deal_id, code)}")
    responsible = int(deal["ASSIGNED_BY_ID"])
    for notice in world.notifications(responsible):
        say(f"Bitrix24 → notification to user {responsible} [{notice['tag']}]: {notice['message']}")
    for entry in world.registry_elements():
        say(f"Bitrix24 → «Реестр оплат»: {entry['NAME']}, {entry.get('Сумма')} ({entry.get('Состояние')})")
    deals.close_won(stack, say, deal_id)


def mapping_file(directory: Path, *, bizproc_template_id: int | None = None) -> Path:
    """The packaged default mapping, with a business-process template configured for the registry
    (None: the default registry, the list setup creates)."""
    text = resources.files("bridge.config").joinpath("mapping.default.toml").read_text("utf-8")
    if bizproc_template_id is not None:
        text = text.replace("# bizproc_template_id = 12", f"bizproc_template_id = {bizproc_template_id}")
    path = directory / ("mapping.payments.toml" if bizproc_template_id else "mapping.payments-list.toml")
    path.write_text(text, "utf-8")
    return path


def start_stack(moto_url: str, prefix: str, directory: Path) -> LocalStack:
    """A local stack for the payments tests: no timers (runs are invoked), no SQS pollers."""
    from sandbox.local.stack import LocalStack, LocalStackConfig

    config = LocalStackConfig.ephemeral(
        moto_url=moto_url,
        prefix=prefix,
        schedules=False,
        pollers=False,
        prewarm=False,
        extra_env={"BRIDGE_MAPPING_FILE": str(mapping_file(directory))},
    )
    return LocalStack(config).start()


def invoke_poll(stack: LocalStack) -> dict[str, Any]:
    """One scheduled run, as EventBridge Scheduler would start it."""
    answer = httpx.post(f"{stack.api_url}/_local/invoke/PaymentsPollFunction", content=b"", timeout=120)
    answer.raise_for_status()
    report: dict[str, Any] = answer.json()
    if answer.headers.get("x-amz-function-error"):
        raise RuntimeError(f"PaymentsPollFunction failed: {report}")
    return report


def reset_world(world: PaymentsWorld) -> None:
    """Fresh emulators and an empty SyncTable (deal ids restart at 1 after a reset, so old links go)."""
    httpx.post(f"{origin(world.b24_webhook_url)}/_sandbox/reset", timeout=10)
    httpx.post(f"{origin(world.onec_base_url)}/_sandbox/reset", timeout=10)
    for page in world.dynamodb.get_paginator("scan").paginate(TableName=world.table_name):
        for item in page.get("Items", []):
            world.dynamodb.delete_item(TableName=world.table_name, Key={"pk": item["pk"], "sk": item["sk"]})
