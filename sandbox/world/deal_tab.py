"""The «1С» deal tab on a local stack: install the local application in the Bitrix24 emulator,
open the tab as a user (the emulator POSTs the documented placement request to the stack's
route), press its button. Shared by the acceptance tests, the browser test and the bench."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from sandbox.local.stack import LocalStack

SCOPE = ["crm", "placement", "user_brief", "catalog"]
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass
class DealTabApp:
    stack: LocalStack
    app: dict[str, Any]

    @property
    def b24_root(self) -> str:
        assert self.stack.b24 is not None
        return self.stack.b24.url

    @classmethod
    def install(cls, stack: LocalStack, *, admin: int = 1) -> DealTabApp:
        """Register the local application with the stack's install route and install it as an admin
        (the install page binds the tab; `install-finish` is what BX24.installFinish() does)."""
        assert stack.b24 is not None
        root = stack.b24.url
        warm(stack)
        body = {"handler": f"{stack.api_url}/b24/app/install", "scope": SCOPE}
        app = httpx.post(f"{root}/_sandbox/apps", json=body, timeout=30).json()
        answer = httpx.post(f"{root}/_sandbox/apps/{app['id']}/install", json={"user_id": admin}, timeout=60)
        if answer.status_code != 200:
            raise RuntimeError(f"install failed: HTTP {answer.status_code} {answer.text[:300]}")
        if "installFinish" not in answer.json()["response"]["body"]:
            raise RuntimeError(f"install page did not finish: {answer.json()['response']}")
        httpx.post(f"{root}/_sandbox/apps/{app['id']}/install-finish", timeout=10).raise_for_status()
        return cls(stack, httpx.get(f"{root}/_sandbox/apps/{app['id']}", timeout=10).json())

    def bindings(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = httpx.get(
            f"{self.b24_root}/_sandbox/apps/{self.app['id']}", timeout=10
        ).json()["bindings"]
        return found

    def open(
        self, deal_id: int, *, user_id: int = 1, override: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A user opens the tab: {request: {query, form}, response: {status, headers, body}}."""
        body: dict[str, Any] = {"user_id": user_id, "deal_id": deal_id}
        if override:
            body["override"] = override
        answer = httpx.post(
            f"{self.b24_root}/_sandbox/apps/{self.app['id']}/placements/open", json=body, timeout=60
        )
        answer.raise_for_status()
        opened: dict[str, Any] = answer.json()
        return opened

    def press_resync(self, page: str, **changes: str | None) -> httpx.Response:
        """Submit the page's resync form as the browser would (`changes`: forge or drop a field)."""
        fields = hidden_fields(page)
        for name, value in changes.items():
            if value is None:
                fields.pop(name, None)
            else:
                fields[name] = value
        return httpx.post(f"{self.stack.api_url}/b24/app/deal-tab/resync", data=fields, timeout=120)


def warm(stack: LocalStack) -> None:
    """Wait out the function's cold start (a busy machine imports for many seconds): the portal
    gives an install page only a few seconds, as Bitrix24 does. An empty POST is a 400."""
    httpx.post(f"{stack.api_url}/b24/app/install", content=b"", timeout=180)


def hidden_fields(page: str) -> dict[str, str]:
    return {name: unescape(value) for name, value in _HIDDEN.findall(page)}
