"""Webhook receiver logic: verify a Bitrix24 outbound event, answer at once, queue it per entity.

Bitrix24 never retries a delivery (reference §3.1), so the receiver does the least that can fail:
size check, parse, token check, validation, one SQS send. The flows do the real work from the queue.
Order matters: the token is checked before the payload is validated, so a caller without the
token learns nothing about what a valid event looks like.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from bridge.b24 import php_query
from bridge.errors import BridgeError, ConfigurationError, TransientError
from bridge.observability import logger, metrics
from bridge.pipeline.models import B24Event, QueuedEvent, deduplication_id, entity_for_event
from bridge.pipeline.queue import EventSender, event_sender
from bridge.settings import receiver_secret

MAX_BODY_BYTES = 64 * 1024


class RejectedEvent(BridgeError):
    """The request is refused; the message is the reason given to the caller."""


class PayloadTooLarge(RejectedEvent):
    pass


class MalformedEvent(RejectedEvent):
    pass


class Unauthorized(RejectedEvent):
    pass


# The one place that turns receiver errors into HTTP answers (and metric names).
_STATUS: dict[type[BaseException], tuple[int, str]] = {
    PayloadTooLarge: (413, "EventsTooLarge"),
    MalformedEvent: (400, "EventsMalformed"),
    Unauthorized: (401, "EventsUnauthorized"),
    ConfigurationError: (500, "EventsNotQueued"),
    TransientError: (503, "EventsNotQueued"),
}


@dataclass(frozen=True)
class HttpRequest:
    """The parts of an API Gateway HTTP API request the receiver reads."""

    body: str | None
    is_base64_encoded: bool = False
    content_type: str | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def _application_token_from_secrets() -> str:
    return receiver_secret().get_secret_value()


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ReceiverDeps:
    """What the receiver talks to; tests pass fakes, Lambda uses the defaults."""

    sender: EventSender
    application_token: Callable[[], str] = _application_token_from_secrets
    clock: Callable[[], datetime] = field(default=_now)


def default_receiver_deps() -> ReceiverDeps:
    return ReceiverDeps(sender=event_sender())


def receive(request: HttpRequest, deps: ReceiverDeps) -> Answer:
    try:
        return _answer(request, deps)
    finally:
        logger.remove_keys(["entity_key"])


def _answer(request: HttpRequest, deps: ReceiverDeps) -> Answer:
    try:
        queued, message_id = _accept(request, deps)
    except (RejectedEvent, ConfigurationError, TransientError) as error:
        status, metric = next(v for k, v in _STATUS.items() if isinstance(error, k))
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
        if status >= 500:
            logger.exception("event not queued", extra={"step": "rejected", "status": status})
            reason = "the event could not be queued"  # details stay in the log, not in the answer
        else:
            logger.warning(
                "event rejected", extra={"step": "rejected", "status": status, "reason": str(error)}
            )
            reason = str(error)
        return Answer(status, {"queued": False, "error": reason})
    metrics.add_metric(name="EventsQueued", unit=MetricUnit.Count, value=1)
    return Answer(
        200,
        {
            "queued": True,
            "event": queued.event,
            "entity": queued.entity.value,
            "id": queued.id,
            "message_id": message_id,
        },
    )


def _accept(request: HttpRequest, deps: ReceiverDeps) -> tuple[QueuedEvent, str]:
    raw = _decode_body(request)
    _verify_token(raw, deps.application_token())
    event = _validate(raw)
    entity = entity_for_event(event.event)
    if entity is None:
        raise MalformedEvent(f"unsupported event {event.event}")
    queued = QueuedEvent.from_b24(event, entity, received_at=deps.clock())
    logger.append_keys(entity_key=queued.group_id)
    logger.info("event received", extra={"step": "received", "event": queued.event, "ts": queued.ts})
    message_id = deps.sender.send(
        queued.model_dump_json(), group_id=queued.group_id, deduplication_id=deduplication_id(queued)
    )
    logger.info("event queued", extra={"step": "queued", "event": queued.event, "message_id": message_id})
    return queued, message_id


def _decode_body(request: HttpRequest) -> dict[str, Any]:
    text = request.body or ""
    if request.is_base64_encoded:
        # base64 is 4/3 of the payload: refuse before decoding something huge.
        if len(text) > (MAX_BODY_BYTES * 4) // 3 + 4:
            raise PayloadTooLarge(f"body over {MAX_BODY_BYTES} bytes")
        try:
            payload = base64.b64decode(text, validate=True)
        except binascii.Error:
            raise MalformedEvent("body is not valid base64") from None
    else:
        payload = text.encode()
    if len(payload) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body over {MAX_BODY_BYTES} bytes")
    if not payload.strip():
        raise MalformedEvent("empty body")
    try:
        decoded_text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedEvent("body is not UTF-8") from None
    if _is_json(request.content_type, decoded_text):
        try:
            parsed = json.loads(decoded_text)
        except ValueError:
            raise MalformedEvent("body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise MalformedEvent("JSON body must be an object")
        return parsed
    return php_query.decode(decoded_text)


def _is_json(content_type: str | None, text: str) -> bool:
    if content_type:
        media_type = content_type.split(";", 1)[0].strip().lower()
        return media_type == "application/json" or media_type.endswith("+json")
    return text.lstrip().startswith("{")


def _verify_token(raw: Mapping[str, Any], expected: str) -> None:
    auth = raw.get("auth")
    presented = auth.get("application_token") if isinstance(auth, Mapping) else None
    if not isinstance(presented, str) or not presented:
        raise Unauthorized("missing auth[application_token]")
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Unauthorized("auth[application_token] does not match")


def _validate(raw: Mapping[str, Any]) -> B24Event:
    try:
        return B24Event.model_validate(raw)
    except ValidationError as error:
        raise MalformedEvent(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    reasons = []
    for item in error.errors(include_url=False, include_input=False):
        name = _bracket_name(item["loc"])
        if item["type"] == "missing":
            reasons.append(f"missing field {name}")
        elif item["type"] == "model_type":
            reasons.append(f"{name}: must have nested fields ({name}[...])")
        else:
            reasons.append(f"{name}: {item['msg'].removeprefix('Value error, ')}")
    return "; ".join(reasons)


def _bracket_name(loc: tuple[int | str, ...]) -> str:
    """('data', 'FIELDS', 'ID') → 'data[FIELDS][ID]', the name Bitrix24 gives the form field."""
    if not loc:
        return "body"
    head, *rest = (str(part) for part in loc)
    return head + "".join(f"[{part}]" for part in rest)
