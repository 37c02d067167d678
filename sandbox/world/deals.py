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

from bridge import deps
from bridge.b24.client import B24Client
from bridge.b24.ratelimit import LocalBucket
from bridge.config.mapping import Mapping
from bridge.onec.client import ODataClient
from bridge.operations import run_setup as run_all_setup
from bridge.ports import Ports
from bridge.settings import load_mapping
from bridge.setup import SetupReport
from bridge.store import B24Ref, LinkStore, OneCRef, SyncStore
from sandbox.local import emulators
from sandbox.serve import RunningServer
from sandbox.template import create_table_from_template
from sandbox.world.rest import B24Rest

REGION = "eu-central-1"


def make_ports(
    b24_webhook_url: str,
    onec_base_url: str,
    table_name: str,
    dynamodb_client: Any,
    mapping: Mapping | None = None,
) -> Ports:
    return deps.ports_for(
        B24Client(b24_webhook_url, limiter=LocalBucket(burst=50, per_second=50), max_attempts=2),
        ODataClient(
            onec_base_url, emulators.ONEC_USER, emulators.ONEC_PASSWORD, max_attempts=2, backoff_base_s=0.05
        ),
        SyncStore(table_name, dynamodb_client),
        mapping or load_mapping(None),
    )


def stack_ports(stack: Any, mapping: Mapping | None = None) -> Ports:
    """Ports onto a started `sandbox.local.LocalStack` (its emulators and its SyncTable)."""
    table = stack.model.tables["SyncTable"].name
    return make_ports(stack.b24_webhook_url, stack.onec_base_url, table, stack.client("dynamodb"), mapping)


def run_setup(stack: Any, *, dry_run: bool = False) -> SetupReport:
    """Setup against the local stack's emulators (the hook `make sandbox` calls after start)."""
    return run_all_setup(stack_ports(stack), dry_run=dry_run)


def clear_table(dynamodb: Any, table: str) -> None:
    """Remove every item (links, cursors, config) so a reset emulator starts from a clean slate."""
    paginator = dynamodb.get_paginator("scan")
    for page in paginator.paginate(TableName=table, ProjectionExpression="pk, sk"):
        for item in page.get("Items", []):
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


def linked_product(rest: B24Rest, links: LinkStore, name: str, nomenclature: str, fingerprint: str) -> int:
    """A Bitrix24 product for the 1C item `nomenclature`, linked in SyncTable as a catalog sync
    leaves it (the deal flow needs the link to find the item)."""
    product = rest.product(name, nomenclature)
    links.link(
        B24Ref(entity="PRODUCT", id=str(product)),
        OneCRef(entity_set="Catalog_Номенклатура", ref=nomenclature),
        fingerprint=fingerprint,
    )
    return product


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
        deps.reset()


@contextlib.contextmanager
def world(moto_url: str) -> Iterator[World]:
    running = World(moto_url).start()
    try:
        yield running
    finally:
        running.stop()
