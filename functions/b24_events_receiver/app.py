"""POST /b24/events: Bitrix24 outbound events in, queued per entity (logic: bridge.pipeline.receiver).

The receiver answers every refusal itself (`receive` never raises for a bad event: Bitrix24 does
not retry, so each answer is logged and counted there).
"""

from __future__ import annotations

from bridge import deps
from bridge.handlers import HttpApi, Wording, use
from bridge.pipeline.receiver import HttpRequest, receive

NOT_QUEUED = {"queued": False, "error": "the event could not be queued"}  # details stay in the log
WORDING = Wording(
    refused=lambda status, reason: {"queued": False, "error": reason},
    transient=lambda detail: NOT_QUEUED,
    configuration=NOT_QUEUED,
)
api = HttpApi("b24 event", WORDING)


@api.app.post("/b24/events")
def b24_events() -> object:
    event = api.event
    request = HttpRequest(
        body=event.body,
        is_base64_encoded=bool(event.is_base64_encoded),
        content_type=event.headers.get("content-type"),
    )
    answer = receive(request, use(deps.receiver_deps))
    return api.reply(answer.status, answer.body)


handler = api.handler
