"""Webhook receiver logic: verify a Bitrix24 outbound event, answer at once, queue it per entity.

Bitrix24 never retries a delivery (reference §3.1), so the receiver does the least that can fail:
size check, flat parse, token check, nested decode, validation, one SQS send. The flows do the
real work from the queue. Order matters: the token is read from a flat parse of the form (one
linear pass, field count capped) and checked before anything is decoded into a tree or validated,
so a caller without the token costs little CPU and learns nothing about what a valid event looks
like. Every step before the send is linear in the body and bounded in depth.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from bridge.b24 import php_query
from bridge.domain.events import EventSender, QueuedEvent
from bridge.errors import BridgeError, ConfigurationError, TransientError
from bridge.http_edge import BodyRejected, load_json_object, raw_body, utf8_text
from bridge.observability import logger, metrics
from bridge.pipeline.models import B24Event, deduplication_id, entity_for_event
from bridge.settings import receiver_secret

MAX_BODY_BYTES = 64 * 1024
# A Bitrix24 event has about 15 form fields nested 3 levels (data[FIELDS][ID]); far more is not
# Bitrix24, and is refused before any decoding.
MAX_FORM_FIELDS = 200
MAX_NESTING = 8
TOKEN_FIELD = "auth[application_token]"


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
    """What the receiver talks to (built in bridge.deps; tests pass fakes)."""

    sender: EventSender
    application_token: Callable[[], str] = _application_token_from_secrets
    clock: Callable[[], datetime] = field(default=_now)


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
    raw = _authenticated_body(request, deps.application_token)
    event = _validate(raw)
    entity = entity_for_event(event.event)
    if entity is None:
        raise MalformedEvent(f"unsupported event {event.event[:80]}")
    queued = QueuedEvent.from_b24(event, entity, received_at=deps.clock())
    logger.append_keys(entity_key=queued.group_id)
    logger.info("event received", extra={"step": "received", "event": queued.event, "ts": queued.ts})
    message_id = deps.sender.send(
        queued.model_dump_json(), group_id=queued.group_id, deduplication_id=deduplication_id(queued)
    )
    logger.info("event queued", extra={"step": "queued", "event": queued.event, "message_id": message_id})
    return queued, message_id


def _authenticated_body(request: HttpRequest, expected_token: Callable[[], str]) -> dict[str, Any]:
    """The body as a tree, decoded only once its token matched."""
    try:
        text = utf8_text(
            raw_body(request.body, is_base64_encoded=request.is_base64_encoded, max_bytes=MAX_BODY_BYTES)
        )
        if not text.strip():
            raise MalformedEvent("empty body")
        if _is_json(request.content_type, text):
            # json is linear and its nesting is capped before parsing: no flat pass needed.
            tree = load_json_object(text, max_depth=MAX_NESTING)
            auth = tree.get("auth")
            _verify_token(
                auth.get("application_token") if isinstance(auth, Mapping) else None, expected_token()
            )
            return tree
        pairs = php_query.flat_pairs(text, max_fields=MAX_FORM_FIELDS)
        _verify_token(_form_token(pairs), expected_token())
        return php_query.unflatten(pairs, max_depth=MAX_NESTING)
    except BodyRejected as error:
        raise (PayloadTooLarge if error.status == 413 else MalformedEvent)(error.reason) from None
    except php_query.QueryRejected as error:
        raise MalformedEvent(str(error)) from None


def _is_json(content_type: str | None, text: str) -> bool:
    if content_type:
        media_type = content_type.split(";", 1)[0].strip().lower()
        return media_type == "application/json" or media_type.endswith("+json")
    return text.lstrip().startswith("{")


def _form_token(pairs: Sequence[tuple[str, str]]) -> str | None:
    # The last occurrence wins, as in the nested decode (and in PHP).
    for key, value in reversed(pairs):
        if key == TOKEN_FIELD:
            return value
    return None


def _verify_token(presented: object, expected: str) -> None:
    if not isinstance(presented, str) or not presented:
        raise Unauthorized(f"missing {TOKEN_FIELD}")
    # surrogatepass: any text compares (and fails) instead of raising on a lone surrogate.
    if not hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), expected.encode()):
        raise Unauthorized(f"{TOKEN_FIELD} does not match")


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
