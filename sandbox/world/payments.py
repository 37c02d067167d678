"""The payments scenario helpers the payments tests, the benchmark and the demo share.

`PaymentsWorld` drives both emulators and SyncTable through the real APIs: a deal in Bitrix24, an
order in 1C linked to it (what the deal flow leaves behind), payments posted and unposted in 1C,
order states changed, and the Bitrix24 call journal read back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from bridge import deps
from bridge.b24.client import B24Client
from bridge.b24.ratelimit import LocalBucket
from bridge.config.mapping import Mapping
from bridge.config.payments import RegistryOptions
from bridge.domain.onec_sets import BANK_RECEIPTS as BANK_SET
from bridge.domain.onec_sets import CARD_OPERATIONS as CARD_SET
from bridge.domain.onec_sets import CASH_RECEIPTS as CASH_SET
from bridge.domain.onec_sets import ORDERS as ORDER_SET
from bridge.domain.onec_sets import SHIPMENTS as SHIPMENT_SET
from bridge.onec.client import ODataClient
from bridge.payments.models import ORDER_TYPE
from bridge.payments.setup import setup as payments_setup
from bridge.ports import Ports
from bridge.store import SyncStore
from bridge.store.models import B24Ref, OneCRef
from sandbox.onec.seed import seed_ref
from sandbox.world.rest import B24Rest

if TYPE_CHECKING:
    from sandbox.local.stack import LocalStack

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
        return deps.ports_for(
            B24Client(self.b24_webhook_url, limiter=LocalBucket(), backoff_base_s=0.01),
            ODataClient(
                self.onec_base_url, ONEC_USER, ONEC_PASSWORD, max_attempts=onec_attempts, backoff_base_s=0.01
            ),
            SyncStore(self.table_name, self.dynamodb),
            self.mapping,
        )

    def setup(self) -> list[str]:
        return [str(line) for line in payments_setup(self.ports(), dry_run=False)]

    # -- Bitrix24 ---------------------------------------------------------------------------------
    @cached_property
    def rest(self) -> B24Rest:
        return B24Rest(self.b24_webhook_url)

    def new_deal(self, title: str, *, category: int = 0, assigned: int = 2, stage: str | None = None) -> int:
        fields: dict[str, Any] = {"TITLE": title, "CATEGORY_ID": category, "ASSIGNED_BY_ID": assigned}
        if stage:
            fields["STAGE_ID"] = stage
        return int(self.rest.call("crm.deal.add", {"fields": fields}))

    def deal(self, deal_id: int) -> dict[str, Any]:
        result: dict[str, Any] = self.rest.call("crm.deal.get", {"id": deal_id})
        return result

    def shown(self, deal_id: int, code: str) -> str:
        """A deal field as a person reads it: enumeration option ids turned into their text."""
        value = self.deal(deal_id).get(code)
        rows = self.rest.call("crm.deal.userfield.list", {"filter": {"FIELD_NAME": code}})
        options = {str(o["ID"]): str(o["VALUE"]) for row in rows for o in row.get("LIST") or []}
        return options.get(str(value), str(value or ""))

    def move_deal(self, deal_id: int, stage: str) -> None:
        self.rest.call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": stage}})

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
        [listing] = self.rest.call("lists.get", {"IBLOCK_TYPE_ID": "lists", "IBLOCK_CODE": REGISTRY_CODE})
        where = {"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": listing["ID"]}
        names = {f["FIELD_ID"]: f["NAME"] for f in self.rest.call("lists.field.get", where).values()}
        shown: list[dict[str, Any]] = []
        for element in self.rest.call("lists.element.get", where):
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
