"""A rotated secret reaches a warm process without a restart: on its TTL, and at once after the
other side refuses the credentials. A refusal that survives the re-read is transient and counted."""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Iterator

import httpx
import pytest

from bridge import deps, settings
from bridge.b24 import factory
from bridge.b24.client import B24Client
from bridge.b24.errors import AuthError
from bridge.errors import CredentialsRejected, TransientError
from bridge.observability import metrics
from bridge.onec import AccessDenied, ODataClient
from tests.harness.clock import FakeTime

OLD_HOOK = "https://portal.bitrix24.ru/rest/1/oldcode1234567/"
NEW_HOOK = "https://portal.bitrix24.ru/rest/1/newcode7654321/"
ONEC = "http://1c.example/unf/odata/standard.odata/"
ENV = {
    "BRIDGE_TABLE_NAME": "t",
    "BRIDGE_B24_WEBHOOK_URL": OLD_HOOK,
    "BRIDGE_B24_APPLICATION_TOKEN": "app-token-1",
    "BRIDGE_ONEC_BASE_URL": ONEC,
    "BRIDGE_ONEC_USER": "odata",
    "BRIDGE_ONEC_PASSWORD": "old-password",
    "BRIDGE_SECRET_MAX_AGE_S": "300",
}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTime]:
    for key in list(os.environ):
        if key.startswith("BRIDGE_"):
            monkeypatch.delenv(key)
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    fake = FakeTime(1000.0)
    monkeypatch.setattr(settings, "clock", fake)
    settings.reset_caches()
    deps.reset()
    yield fake
    settings.reset_caches()
    deps.reset()


def auth_failures() -> int:
    return len(metrics.metric_set.get("AuthFailed", {}).get("Value", []))


# --- settings -----------------------------------------------------------------------------------


def test_a_rotated_secret_is_read_again_once_its_max_age_passed(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert settings.credentials().onec_password.get_secret_value() == "old-password"
    monkeypatch.setenv("BRIDGE_ONEC_PASSWORD", "new-password")
    clock.now += 299
    assert settings.credentials().onec_password.get_secret_value() == "old-password"
    clock.now += 1
    assert settings.credentials().onec_password.get_secret_value() == "new-password"


def test_refresh_reads_the_secret_at_once(clock: FakeTime, monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings.credentials().b24_webhook_url.get_secret_value() == OLD_HOOK
    monkeypatch.setenv("BRIDGE_B24_WEBHOOK_URL", NEW_HOOK)
    assert settings.refresh_credentials().b24_webhook_url.get_secret_value() == NEW_HOOK
    assert settings.credentials().b24_webhook_url.get_secret_value() == NEW_HOOK


def test_each_route_secret_has_its_own_accessor(clock: FakeTime, monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings.receiver_secret().get_secret_value() == "app-token-1"
    assert settings.push_secret() is None  # not configured: every push is refused
    assert settings.refresh_secret() is None
    monkeypatch.setenv("BRIDGE_ONEC_PUSH_SECRET", "push-1")
    monkeypatch.setenv("BRIDGE_STOCK_REFRESH_TOKEN", "refresh-1")
    clock.now += 300
    push, refresh = settings.push_secret(), settings.refresh_secret()
    assert push is not None
    assert push.get_secret_value() == "push-1"
    assert refresh is not None
    assert refresh.get_secret_value() == "refresh-1"


def test_the_receiver_token_alone_is_enough_for_the_receiver(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The receiver's function has no access to the systems' credentials.
    for key in ("BRIDGE_B24_WEBHOOK_URL", "BRIDGE_ONEC_BASE_URL", "BRIDGE_ONEC_USER", "BRIDGE_ONEC_PASSWORD"):
        monkeypatch.delenv(key)
    settings.reset_caches()
    assert settings.receiver_secret().get_secret_value() == "app-token-1"


# --- Bitrix24 client ------------------------------------------------------------------------------


class Portal:
    """Accepts only the webhook code it currently holds; answers NO_AUTH_FOUND to any other."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if f"/rest/1/{self.code}/" not in request.url.path:
            return httpx.Response(
                401, json={"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"}
            )
        return httpx.Response(200, json={"result": {"ID": "7"}, "time": {}})


class Limiter:
    def acquire(self, cost: int = 1) -> None:
        pass


def b24_client(portal: Portal, source: object) -> B24Client:
    return B24Client(
        OLD_HOOK,
        limiter=Limiter(),
        http=httpx.Client(transport=httpx.MockTransport(portal)),
        sleep=lambda _: None,
        logger=logging.getLogger("test.b24"),
        webhook_source=source,  # type: ignore[arg-type]
    )


def test_b24_rotated_webhook_is_picked_up_after_the_refusal_and_the_call_succeeds(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = Portal("oldcode1234567")
    client = b24_client(portal, factory.current_webhook)
    assert client.call("crm.deal.get", {"id": 7}).result == {"ID": "7"}

    portal.code = "newcode7654321"  # rotated on the portal …
    monkeypatch.setenv("BRIDGE_B24_WEBHOOK_URL", NEW_HOOK)  # … and in the secret; TTL not passed
    assert client.call("crm.deal.get", {"id": 7}).result == {"ID": "7"}
    assert portal.paths[1:] == [
        "/rest/1/oldcode1234567/crm.deal.get.json",
        "/rest/1/newcode7654321/crm.deal.get.json",
    ]
    # Later calls go straight to the new webhook.
    client.call("crm.deal.get", {"id": 7})
    assert portal.paths[-1] == "/rest/1/newcode7654321/crm.deal.get.json"


def test_b24_webhook_rotated_in_the_secret_is_used_once_the_ttl_passed(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = Portal("newcode7654321")  # the portal accepts both during the rotation window
    client = b24_client(portal, factory.current_webhook)
    monkeypatch.setenv("BRIDGE_B24_WEBHOOK_URL", NEW_HOOK)
    clock.now += 300
    client.call("crm.deal.get", {"id": 7})
    assert portal.paths == ["/rest/1/newcode7654321/crm.deal.get.json"]


def test_b24_refusal_with_an_unchanged_secret_is_transient_and_counted(clock: FakeTime) -> None:
    portal = Portal("somebody-else-code")
    client = b24_client(portal, factory.current_webhook)
    before = auth_failures()
    with pytest.raises(AuthError) as raised:
        client.call("crm.deal.get", {"id": 7})
    assert isinstance(raised.value, TransientError)
    assert isinstance(raised.value, CredentialsRejected)
    # The secret was re-read and is unchanged: the same webhook is not tried again.
    assert len(portal.paths) == 1
    assert auth_failures() == before + 1


# --- 1C client ------------------------------------------------------------------------------------


class OneC:
    def __init__(self, password: str) -> None:
        self.password = password
        self.logins: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        login = base64.b64decode(request.headers["authorization"].split()[1]).decode()
        self.logins.append(login)
        if login != f"odata:{self.password}":
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="1C:Enterprise"'})
        return httpx.Response(200, json={"value": []})


def onec_client(server: OneC) -> ODataClient:
    return ODataClient(
        *deps.current_onec_login(False),
        http=httpx.Client(transport=httpx.MockTransport(server)),
        sleep=lambda _: None,
        credentials_source=deps.current_onec_login,
    )


def test_onec_rotated_password_is_picked_up_after_a_401_and_the_request_resent(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = OneC("old-password")
    client = onec_client(server)
    assert client.list("Catalog_Контрагенты") == []
    server.password = "new-password"
    monkeypatch.setenv("BRIDGE_ONEC_PASSWORD", "new-password")
    assert client.list("Catalog_Контрагенты") == []
    assert server.logins == ["odata:old-password", "odata:old-password", "odata:new-password"]


def test_onec_401_with_an_unchanged_secret_is_transient_and_counted(clock: FakeTime) -> None:
    server = OneC("another-password")
    client = onec_client(server)
    before = auth_failures()
    with pytest.raises(AccessDenied) as raised:
        client.list("Catalog_Контрагенты")
    assert isinstance(raised.value, TransientError)
    # One request, one re-read of the secret (unchanged), no blind resend of the same login.
    assert server.logins == ["odata:old-password"]
    assert auth_failures() == before + 1


def test_every_refusal_reads_the_secret_again(clock: FakeTime, monkeypatch: pytest.MonkeyPatch) -> None:
    # The operator may write the secret moments after the other side started refusing the old
    # value: a refusal a second after a forced read must still see the newer value.
    settings.credentials()
    monkeypatch.setenv("BRIDGE_ONEC_PASSWORD", "new-password")
    assert settings.refresh_credentials().onec_password.get_secret_value() == "new-password"
    monkeypatch.setenv("BRIDGE_ONEC_PASSWORD", "newer-password")
    clock.now += 1
    assert settings.refresh_credentials().onec_password.get_secret_value() == "newer-password"


def test_an_unreachable_secrets_manager_keeps_the_value_held(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_SECRET_ID", "bridge/credentials")
    reads: list[str] = []

    def read(secret_id: str) -> dict[str, str]:
        reads.append(secret_id)
        if len(reads) > 1:
            raise ConnectionError("secretsmanager unreachable")
        return {
            "b24_webhook_url": OLD_HOOK,
            "onec_base_url": ONEC,
            "onec_user": "odata",
            "onec_password": "held",
        }

    monkeypatch.setattr(settings, "_read_secret_json", read)
    settings.reset_caches()
    assert settings.credentials().onec_password.get_secret_value() == "held"
    clock.now += 300
    assert settings.credentials().onec_password.get_secret_value() == "held"  # stale beats down
    assert len(reads) == 2
    clock.now += 1
    settings.credentials()
    assert len(reads) == 2  # no hammering: the next attempt waits a little
    clock.now += 30
    settings.credentials()
    assert len(reads) == 3
