"""The deal flow's sandbox wiring: `Ports` for emulators, setup on a local stack, helpers that
drive Bitrix24 like a manager would. Used by the deal tests, the benchmark and the demo."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx

from bridge.b24.client import B24Client
from bridge.b24.ratelimit import LocalBucket
from bridge.deps import Ports
from bridge.onec.client import ODataClient
from bridge.settings import Mapping, load_mapping
from bridge.setup import SetupReport, run_all
from bridge.store import SyncStore
from sandbox.local import emulators
from sandbox.serve import RunningServer
from sandbox.template import create_table_from_template

REGION = "eu-central-1"


def make_ports(
    b24_webhook_url: str,
    onec_base_url: str,
    table_name: str,
    dynamodb_client: Any,
    mapping: Mapping | None = None,
) -> Ports:
    return Ports(
        b24=B24Client(b24_webhook_url, limiter=LocalBucket(burst=50, per_second=50), max_attempts=2),
        onec=ODataClient(
            onec_base_url, emulators.ONEC_USER, emulators.ONEC_PASSWORD, max_attempts=2, backoff_base_s=0.05
        ),
        store=SyncStore(table_name, dynamodb_client),
        mapping=mapping or load_mapping(None),
    )


def stack_ports(stack: Any, mapping: Mapping | None = None) -> Ports:
    """Ports onto a started `sandbox.local.LocalStack` (its emulators and its SyncTable)."""
    table = stack.model.tables["SyncTable"].name
    return make_ports(stack.b24_webhook_url, stack.onec_base_url, table, stack.client("dynamodb"), mapping)


def run_setup(stack: Any, *, dry_run: bool = False) -> SetupReport:
    """Setup against the local stack's emulators (the hook `make sandbox` calls after start)."""
    return run_all(stack_ports(stack), dry_run=dry_run)


def clear_table(dynamodb: Any, table: str) -> None:
    """Remove every item (links, cursors, config) so a reset emulator starts from a clean slate."""
    paginator = dynamodb.get_paginator("scan")
    for page in paginator.paginate(TableName=table, ProjectionExpression="pk, sk"):
        for item in page.get("Items", []):
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


@dataclass
class World:
    """Both emulators on ephemeral ports and a fresh SyncTable in a moto server, for in-process
    flow runs (integration tests, the benchmark)."""

    moto_url: str
    b24: RunningServer | None = None
    onec: RunningServer | None = None
    table: str = field(default_factory=lambda: f"SyncTable-{uuid.uuid4().hex[:8]}")
    ports: Ports | None = None

    @property
    def b24_webhook_url(self) -> str:
        assert self.b24 is not None
        return self.b24.url + emulators.WEBHOOK_PATH

    @property
    def onec_url(self) -> str:
        assert self.onec is not None
        return self.onec.url + emulators.ODATA_PATH

    def dynamodb(self) -> Any:
        return boto3.client(
            "dynamodb",
            endpoint_url=self.moto_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def start(self) -> World:
        self.b24 = emulators.start_b24("127.0.0.1", None)
        self.onec = emulators.start_onec("127.0.0.1", None)
        create_table_from_template(self.dynamodb(), "SyncTable", self.table)
        self.ports = make_ports(self.b24_webhook_url, self.onec_url, self.table, self.dynamodb())
        return self

    def stop(self) -> None:
        for server in (self.b24, self.onec):
            if server is not None:
                server.stop()

    def reset(self) -> None:
        """Fresh emulators and an empty table (setup must run again)."""
        assert self.b24 is not None
        assert self.onec is not None
        httpx.post(self.b24.url + "/_sandbox/reset").raise_for_status()
        httpx.post(self.onec.url + "/_sandbox/reset").raise_for_status()
        clear_table(self.dynamodb(), self.table)
        from bridge.deals import flow

        flow.forget_caches()


@contextlib.contextmanager
def world(moto_url: str) -> Iterator[World]:
    running = World(moto_url).start()
    try:
        yield running
    finally:
        running.stop()


# --- driving Bitrix24 like a manager -------------------------------------------------------------


class B24Rest:
    """Plain JSON calls to the emulator's inbound webhook (what a person's browser would cause)."""

    def __init__(self, webhook_url: str) -> None:
        self.url = webhook_url if webhook_url.endswith("/") else webhook_url + "/"
        self.http = httpx.Client(timeout=15)

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        answer = self.http.post(self.url + method, json=params or {})
        body = answer.json()
        if "error" in body:
            raise RuntimeError(f"{method}: {body['error']} {body.get('error_description')}")
        return body["result"]

    def sandbox(self, path: str, method: str = "GET", json: Any = None) -> Any:
        root = self.url.split("/rest/")[0]
        answer = self.http.request(method, root + path, json=json)
        answer.raise_for_status()
        return answer.json()

    def stage_id(self, funnel: str, stage: str) -> tuple[int, str]:
        categories = self.call("crm.category.list", {"entityTypeId": 2})["categories"]
        category = next(c for c in categories if c["name"] == funnel)
        entity = "DEAL_STAGE" if category["id"] == 0 else f"DEAL_STAGE_{category['id']}"
        statuses = self.call("crm.status.list", {"filter": {"ENTITY_ID": entity}})
        return int(category["id"]), next(s["STATUS_ID"] for s in statuses if s["NAME"] == stage)

    def company_with_contact(
        self,
        title: str,
        inn: str,
        kpp: str,
        contact: tuple[str, str] = ("Пётр", "Сидоров"),
        assigned: int = 2,
    ) -> tuple[int, int]:
        company = int(
            self.call(
                "crm.company.add",
                {
                    "fields": {
                        "TITLE": title,
                        "COMPANY_TYPE": "CUSTOMER",
                        "ASSIGNED_BY_ID": assigned,
                        "PHONE": [{"VALUE": "+7 495 111-22-33", "VALUE_TYPE": "WORK"}],
                        "EMAIL": [{"VALUE": "info@example.ru", "VALUE_TYPE": "WORK"}],
                    }
                },
            )
        )
        self.call(
            "crm.requisite.add",
            {
                "fields": {
                    "ENTITY_TYPE_ID": 4,
                    "ENTITY_ID": company,
                    "PRESET_ID": 1,
                    "NAME": "Организация",
                    "RQ_INN": inn,
                    "RQ_KPP": kpp,
                    "RQ_COMPANY_NAME": title,
                    "RQ_COMPANY_FULL_NAME": f"Общество с ограниченной ответственностью «{title}»",
                }
            },
        )
        person = int(
            self.call(
                "crm.contact.add",
                {
                    "fields": {
                        "NAME": contact[0],
                        "LAST_NAME": contact[1],
                        "POST": "Снабженец",
                        "COMPANY_ID": company,
                        "PHONE": [{"VALUE": "+7 916 000-00-01", "VALUE_TYPE": "MOBILE"}],
                    }
                },
            )
        )
        return company, person

    def product(self, name: str, xml_id: str, price: float = 100.0) -> int:
        iblock = self.call("catalog.catalog.list", {})["catalogs"][0]["iblockId"]
        created = self.call(
            "catalog.product.add",
            {"fields": {"iblockId": iblock, "name": name, "xmlId": xml_id, "purchasingPrice": price}},
        )
        return int(created["element"]["id"])

    def deal(
        self,
        title: str,
        stage: tuple[int, str],
        company: int | None,
        contact: int | None,
        rows: list[dict[str, Any]],
        comments: str = "",
        assigned: int = 2,
        begindate: str | None = "2024-09-02T00:00:00+03:00",  # None: the portal's default, today
    ) -> int:
        fields: dict[str, Any] = {
            "TITLE": title,
            "CATEGORY_ID": stage[0],
            "STAGE_ID": stage[1],
            "ASSIGNED_BY_ID": assigned,
            "COMMENTS": comments,
        }
        if begindate is not None:
            fields["BEGINDATE"] = begindate
        if company:
            fields["COMPANY_ID"] = company
        if contact:
            fields["CONTACT_ID"] = contact
        deal_id = int(self.call("crm.deal.add", {"fields": fields}))
        if rows:
            self.call("crm.deal.productrows.set", {"id": deal_id, "rows": rows})
        return deal_id
