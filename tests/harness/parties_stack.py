"""A LocalStack running the real template plus the parties resources (until the lead merges them)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from sandbox.local import LocalStack, LocalStackConfig
from sandbox.local.emulators import bind_b24_events
from sandbox.template import TEMPLATE_PATH

ROOT = TEMPLATE_PATH.parent
FRAGMENT = ROOT / ".work" / "template-parties.yaml"
FUNCTION = "PartiesSyncFunction"
EXTRA_EVENTS = ("ONCRMREQUISITEADD", "ONCRMREQUISITEUPDATE", "ONCRMCOMPANYDELETE", "ONCRMCONTACTDELETE")
WRITE_METHODS = ("add", "update", "delete", "set")


def parties_template(tmp: Path) -> Path:
    """template.yaml, with the parties fragment added when it is not merged yet; CodeUri absolute
    so the copy may live anywhere."""
    text = TEMPLATE_PATH.read_text("utf-8")
    if f"  {FUNCTION}:" not in text:
        fragment = "".join(
            line for line in FRAGMENT.read_text("utf-8").splitlines(True) if not line.startswith("#")
        )
        text = text.replace("\nOutputs:", "\n" + fragment + "\nOutputs:", 1)
    text = text.replace("CodeUri: functions/", f"CodeUri: {ROOT}/functions/")
    path = tmp / "template.yaml"
    path.write_text(text, "utf-8")
    return path


def start(tmp: Path, moto_url: str) -> LocalStack:
    config = LocalStackConfig.ephemeral(
        template_path=parties_template(tmp),
        moto_url=moto_url,
        schedules=False,
        prefix=f"p{int(time.time() * 1000) % 10**8}-",
    )
    stack = LocalStack(config).start()
    bind_b24_events(stack.b24_webhook_url, stack.api_url + "/b24/events", EXTRA_EVENTS)
    return stack


class Systems:
    """What a person sees and does in both systems, plus the call journals."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.b24_root = stack.b24_webhook_url.split("/rest/")[0]
        self.onec_root = stack.onec_base_url.split("/unf/")[0]
        # Generous: the suite shares two CPUs with other stacks; no timing is asserted.
        self.http = httpx.Client(timeout=300)

    def b24(self, method: str, params: dict[str, Any] | None = None) -> Any:
        body = self.http.post(self.stack.b24_webhook_url + method, json=params or {}).json()
        assert "error" not in body, body
        return body["result"]

    def onec(self, method: str, path: str, body: Any = None, **options: str) -> Any:
        query = "&".join(f"{k}={v.replace(' ', '%20')}" for k, v in {"$format": "json", **options}.items())
        response = self.http.request(
            method, f"{self.stack.onec_base_url}{path}?{query}", json=body, auth=("odata", "odata")
        )
        assert response.status_code < 300, response.text
        data = response.json()
        return data.get("value", data)

    def invoke(self, function: str) -> Any:
        return self.http.post(f"{self.stack.api_url}/_local/invoke/{function}", content=b"").json()

    def run_every_schedule(self) -> None:
        for function in sorted({s.function for s in self.stack.model.schedules}):
            self.invoke(function)
            self.settle()

    def settle(self, timeout: float = 240) -> None:
        """Until Bitrix24 has delivered its events and the worker has taken every message."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            self.http.get(f"{self.b24_root}/_sandbox/events", params={"wait": "1"})
            queues = self.stack.status()["queues"]
            busy = sum(q["visible"] + q["in_flight"] for name, q in queues.items() if name == "EventsQueue")
            running = any(not i.done for i in self.stack.journal.entries())
            quiet = quiet + 1 if not busy and not running else 0
            if quiet >= 3:
                return
            time.sleep(0.3)
        raise TimeoutError("the stack did not settle")

    def marks(self) -> tuple[int, int]:
        b24 = self.http.get(f"{self.b24_root}/_sandbox/calls").json()["cursor"]
        onec = self.http.get(f"{self.onec_root}/_sandbox/calls").json()["last_seq"]
        return int(b24), int(onec)

    def writes_since(self, marks: tuple[int, int]) -> tuple[list[str], list[str]]:
        b24 = self.http.get(f"{self.b24_root}/_sandbox/calls", params={"since": marks[0]}).json()["calls"]
        onec = self.http.get(f"{self.onec_root}/_sandbox/calls", params={"since": marks[1]}).json()["calls"]
        return (
            [c["method"] for c in b24 if str(c["method"]).rsplit(".", 1)[-1] in WRITE_METHODS],
            [f"{c['method']} {c['path']}" for c in onec if c["method"] in ("POST", "PATCH", "DELETE")],
        )
