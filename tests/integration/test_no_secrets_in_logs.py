"""A representative slice of the bridge — secrets read from Secrets Manager (moto), setup, a deal
synced to a 1C order, a Bitrix24 event received, a rotated 1C password, a refused login — with
every logger at DEBUG. No secret appears in the captured output, neither as is nor base64- or
URL-encoded (nor as the 1C Basic header).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import boto3
import httpx
import pytest

from bridge import deps, settings
from bridge.deals import flow
from bridge.deals.flow import sync_deal
from bridge.observability import logger, protect_logging
from bridge.onec import AccessDenied
from bridge.pipeline.receiver import HttpRequest, ReceiverDeps, receive
from bridge.setup import run_all
from sandbox.demo_steps.deal_world import B24Rest, World
from sandbox.local import emulators
from tests.acceptance.deal_stack import deal_with_new_company

pytestmark = pytest.mark.integration

CODE = "leak" + uuid.uuid4().hex[:12]
PASSWORD = "Pw/+ü" + uuid.uuid4().hex[:10]
ROTATED = "Rt/+é" + uuid.uuid4().hex[:10]
TOKEN = "tok" + uuid.uuid4().hex
REGION = "eu-central-1"


class ListSender:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, body: str, *, group_id: str, deduplication_id: str) -> str:
        self.sent.append(body)
        return f"m-{len(self.sent)}"


def forms(secret: str) -> set[str]:
    raw = secret.encode()
    return {
        secret,
        quote(secret, safe=""),
        quote(secret),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }


@pytest.fixture
def debug_world(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[World, io.StringIO]]:
    world = World(moto_endpoint).start()
    assert world.b24 is not None
    assert world.onec is not None
    httpx.post(world.b24.url + "/_sandbox/credentials", json={"webhook_code": CODE}).raise_for_status()
    httpx.post(world.onec.url + "/_sandbox/credentials", json={"password": PASSWORD}).raise_for_status()
    webhook = world.b24_webhook_url.replace(emulators.WEBHOOK_PATH, f"/rest/1/{CODE}/")
    sm = boto3.client("secretsmanager", endpoint_url=moto_endpoint, region_name=REGION)
    prefix = uuid.uuid4().hex[:8]
    credentials = {
        "b24_webhook_url": webhook,
        "onec_base_url": world.onec_url,
        "onec_user": emulators.ONEC_USER,
        "onec_password": PASSWORD,
    }
    sm.create_secret(Name=f"{prefix}-credentials", SecretString=json.dumps(credentials))
    sm.create_secret(Name=f"{prefix}-receiver", SecretString=json.dumps({"b24_application_token": TOKEN}))
    for key in [k for k in os.environ if k.startswith("BRIDGE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("BRIDGE_TABLE_NAME", world.table)
    monkeypatch.setenv("BRIDGE_AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("BRIDGE_SECRET_ID", f"{prefix}-credentials")
    monkeypatch.setenv("BRIDGE_RECEIVER_SECRET_ID", f"{prefix}-receiver")
    settings.reset_caches()
    deps.reset()
    flow.forget_caches()

    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    saved_levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    saved_root = root.level
    root.addHandler(handler)
    protect_logging()  # what bridge.observability does at import for Lambda's root handler
    root.setLevel(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):  # every logger, libraries included
        logging.getLogger(name).setLevel(logging.DEBUG)
    logger.setLevel("DEBUG")
    try:
        yield world, stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_root)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
        logger.setLevel("INFO")
        world.stop()
        settings.reset_caches()
        deps.reset()
        flow.forget_caches()


def test_no_secret_reaches_any_log_with_every_logger_at_debug(
    debug_world: tuple[World, io.StringIO], capfd: pytest.CaptureFixture[str], moto_endpoint: str
) -> None:
    world, stream = debug_world
    assert world.onec is not None
    ports = deps.default_ports()

    report = run_all(ports)
    assert not any(step.problems for step in report.steps), report.lines()
    rest = B24Rest(settings.credentials().b24_webhook_url.get_secret_value())
    deal_id = deal_with_new_company(world, rest)  # type: ignore[arg-type]  # World has what it reads
    assert "order" in sync_deal(deal_id, ports).lower()

    sender = ListSender()
    body = urlencode(
        {"event": "ONCRMDEALUPDATE", "data[FIELDS][ID]": str(deal_id), "ts": "1757424000"}
        | {"auth[application_token]": TOKEN, "auth[domain]": "sandbox.bitrix24.ru"}
    )
    answer = receive(
        HttpRequest(body, content_type="application/x-www-form-urlencoded"), ReceiverDeps(sender=sender)
    )
    assert answer.status == 200
    assert sender.sent

    # The 1C password is rotated: the client is refused once, re-reads the secret, goes on.
    httpx.post(world.onec.url + "/_sandbox/credentials", json={"password": ROTATED}).raise_for_status()
    sm = boto3.client("secretsmanager", endpoint_url=moto_endpoint, region_name=REGION)
    secret_id = settings.runtime_settings().secret_id
    assert secret_id is not None
    current = json.loads(sm.get_secret_value(SecretId=secret_id)["SecretString"])
    sm.put_secret_value(SecretId=secret_id, SecretString=json.dumps({**current, "onec_password": ROTATED}))
    assert ports.onec.list("Catalog_Валюты", top=1) is not None

    # A refusal that survives the re-read is logged (AuthFailed) with its exception.
    httpx.post(world.onec.url + "/_sandbox/credentials", json={"password": "x" + ROTATED}).raise_for_status()
    with pytest.raises(AccessDenied) as refused:
        ports.onec.list("Catalog_Валюты", top=1)
    logger.exception("refused", exc_info=refused.value, extra={"attempt": {"login": [refused.value]}})

    captured = capfd.readouterr()
    text = stream.getvalue() + captured.out + captured.err
    # The scan saw the libraries' and the bridge's lines, so an empty capture cannot pass.
    assert "httpx" in stream.getvalue()
    assert "/rest/1/***/" in text
    assert "refused the bridge's credentials" in text
    secrets = [
        CODE,
        PASSWORD,
        ROTATED,
        TOKEN,
        f"{emulators.ONEC_USER}:{PASSWORD}",
        f"{emulators.ONEC_USER}:{ROTATED}",
    ]
    leaks: dict[str, Any] = {form: secret for secret in secrets for form in forms(secret) if form in text}
    assert leaks == {}
