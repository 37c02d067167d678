"""The Bitrix24 REST client every test, the demo and the benchmarks drive the emulator with."""

from __future__ import annotations

import warnings
from typing import Any
from urllib.parse import urlsplit

import httpx

from sandbox.b24.app import create_app
from sandbox.b24.config import B24EmulatorConfig
from sandbox.b24.emulator import Emulator

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


class B24Rest:
    """The one Bitrix24 REST client of tests, demo and benchmarks: plain JSON calls to the
    emulator's inbound webhook, as a person's browser or a third-party script would make them.

    Over HTTP (`B24Rest(webhook_url)`) or in-process (`B24Rest.in_process(config)`: the emulator's
    ASGI app behind a Starlette test client, `emulator` at hand). `call` returns the result and
    raises on an error; `send` returns (HTTP status, body) for tests that look at errors."""

    def __init__(self, webhook_url: str, client: httpx.Client | None = None) -> None:
        parts = urlsplit(webhook_url)
        self.root = f"{parts.scheme}://{parts.netloc}"
        self.base = parts.path.rstrip("/")  # /rest/{user}/{code}
        self.url = self.root + self.base + "/"
        # Paths relative to the emulator's root: `client.get("/_sandbox/calls")`.
        self.client = client or httpx.Client(base_url=self.root, timeout=15)
        self._emulator: Emulator | None = None

    @classmethod
    def in_process(cls, config: B24EmulatorConfig | None = None) -> B24Rest:
        app = create_app(config)
        emulator: Emulator = app.state.emulator
        cfg = emulator.config
        rest = cls(f"http://testserver/rest/{cfg.webhook_user_id}/{cfg.webhook_code}", TestClient(app))
        rest._emulator = emulator
        return rest

    @property
    def emulator(self) -> Emulator:
        """The in-process emulator (its clock, ledger and state), for tests that steer it."""
        if self._emulator is None:
            raise RuntimeError("only an in-process client has the emulator at hand")
        return self._emulator

    def send(self, method: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        response = self.client.post(f"{self.base}/{method}", json=body if body is not None else {}, **kwargs)
        return response.status_code, response.json()

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        status, body = self.send(method, params)
        if status != 200 or "error" in body:
            raise RuntimeError(f"{method}: {status} {body.get('error')} {body.get('error_description')}")
        return body["result"]

    def sandbox(self, path: str, method: str = "GET", json: Any = None) -> Any:
        answer = self.client.request(method, path, json=json)
        answer.raise_for_status()
        return answer.json()

    def close(self) -> None:
        self.client.close()

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

    def comments(self, deal_id: int) -> list[str]:
        """The deal's timeline comments, as the deal card shows them."""
        rows = self.call(
            "crm.timeline.comment.list", {"filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}}
        )
        return [str(row.get("COMMENT", "")) for row in rows]

    @staticmethod
    def goods_row(product_id: int, name: str, quantity: float, price: float = 15) -> dict[str, Any]:
        """A deal's product row as the deal card writes it (pieces, measure code 796)."""
        return {
            "PRODUCT_ID": product_id,
            "PRODUCT_NAME": name,
            "PRICE": price,
            "QUANTITY": quantity,
            "MEASURE_CODE": 796,
        }

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
