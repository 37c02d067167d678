"""The catalog acceptance tests' world: the real catalog functions on a local stack (the template
with the catalog resources), driven and read through both emulators."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bridge.catalog.setup import setup as catalog_setup
from bridge.setup import run_steps
from sandbox.local import LocalStack, LocalStackConfig
from sandbox.onec.seed import seed_ref
from sandbox.template import ROOT, TEMPLATE_PATH
from sandbox.world.deals import clear_table, stack_ports
from tests.harness.catalog_world import is_b24_write, section_path

NOMENCLATURE = "Catalog_Номенклатура"
TOKEN = "acceptance-stock-refresh-token"
FRAGMENT = ROOT / ".work" / "template-catalog.yaml"


def catalog_template(directory: Path) -> Path:
    """template.yaml itself once the catalog resources are merged; until then a copy with them."""
    text = TEMPLATE_PATH.read_text("utf-8")
    if "CatalogSyncFunction:" in text:
        return TEMPLATE_PATH
    fragment = FRAGMENT.read_text("utf-8")
    merged = text.replace("\nOutputs:", "\n" + fragment + "\nOutputs:", 1)
    # The copy lives elsewhere: point every local path back at the project.
    merged = re.sub(r"(CodeUri|ContentUri): (\S+/)", lambda m: f"{m[1]}: {ROOT / m[2]}/", merged)
    path = directory / "template.yaml"
    path.write_text(merged, "utf-8")
    return path


def start_stack(moto_endpoint: str, directory: Path) -> Iterator[LocalStack]:
    config = LocalStackConfig.ephemeral(
        moto_url=moto_endpoint,
        prefix=f"t{uuid.uuid4().hex[:6]}-",
        schedules=False,
        pollers=False,
        template_path=catalog_template(directory),
        extra_env={"BRIDGE_STOCK_REFRESH_TOKEN": TOKEN},
    )
    with LocalStack(config) as running:
        yield running


class World:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        assert stack.b24 is not None
        assert stack.onec is not None
        self.b24_url = stack.b24.url
        self.onec_url = stack.onec.url

    def reset(self) -> None:
        httpx.post(f"{self.b24_url}/_sandbox/reset").raise_for_status()
        httpx.post(f"{self.onec_url}/_sandbox/reset").raise_for_status()
        for table in self.stack.model.tables.values():
            clear_table(self.stack.client("dynamodb"), table.name)

    def setup(self) -> None:
        """Setup runs before the flows (a Lambda never sets itself up): the catalog's step, as deployed."""
        report = run_steps([("catalog", catalog_setup)], stack_ports(self.stack), dry_run=False)
        assert report.ok, report.lines()

    def invoke(self, function: str) -> dict[str, Any]:
        answer = httpx.post(f"{self.stack.api_url}/_local/invoke/{function}", json={}, timeout=120)
        assert "x-amz-function-error" not in answer.headers, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def run(self) -> None:
        self.invoke("CatalogSyncFunction")
        self.invoke("StockSyncFunction")

    def table(self, name: str) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.b24_url}/_sandbox/tables/{name}").json())

    def products(self) -> dict[str, dict[str, Any]]:
        return {p["xmlId"]: p for p in self.table("products")}

    def b24(self, method: str, params: dict[str, Any]) -> Any:
        answer = httpx.post(f"{self.b24_url}/rest/1/sandbox/{method}", json=params, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["result"]

    def article(self, product_id: int) -> Any:
        """What a Bitrix24 user sees in the product card's "Артикул" property."""
        found = self.b24("catalog.productProperty.list", {"filter": {"name": "Артикул"}})
        properties = found["productProperties"]
        assert len(properties) == 1, properties
        value = self.b24("catalog.product.get", {"id": product_id})["product"][
            f"property{properties[0]['id']}"
        ]
        return value["value"] if value else None

    def seq(self) -> int:
        return int(httpx.get(f"{self.b24_url}/_sandbox/calls").json()["cursor"])

    def writes(self, since: int) -> list[tuple[str, int]]:
        calls = httpx.get(f"{self.b24_url}/_sandbox/calls", params={"since": since}).json()["calls"]
        return sorted((c["method"], int(c["params"]["id"])) for c in calls if is_b24_write(c))

    def section_path(self, section_id: int | None) -> list[str]:
        return section_path(self.table("sections"), section_id)

    def odata(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        url = f"{self.onec_url}/unf/odata/standard.odata/{path}?$format=json"
        answer = httpx.request(method, url, json=body, auth=("odata", "odata"), timeout=10)
        assert answer.is_success, answer.text

    def onec_sandbox(self, path: str, body: dict[str, Any]) -> None:
        httpx.post(f"{self.onec_url}/_sandbox/{path}", json=body, timeout=10).raise_for_status()


def ref(name: str) -> str:
    return seed_ref(NOMENCLATURE, name)
