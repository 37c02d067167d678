"""Sample API Gateway events (events/<function>/*.json) turned back into the HTTP requests that
produced them, so they can be replayed against the local API over real HTTP."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from bridge.payments.push import SIGNATURE_HEADER, signed_headers

# Headers API Gateway adds or that belong to the original connection, not to the client's request.
_HOP_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "x-amzn-trace-id",
        "x-forwarded-for",
        "x-forwarded-port",
        "x-forwarded-proto",
    }
)


@dataclass(frozen=True)
class HttpSample:
    name: str  # "<function dir>/<file stem>"
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


def as_http_sample(name: str, event: Any) -> HttpSample | None:
    """The request behind an HTTP API (2.0) or REST/1.0 proxy event; None for any other event."""
    if not isinstance(event, dict):
        return None
    if event.get("version") == "2.0" and "rawPath" in event:
        method = event["requestContext"]["http"]["method"]
        path, query = event["rawPath"], event.get("rawQueryString", "")
    elif "httpMethod" in event and "path" in event:
        method, path = event["httpMethod"], event["path"]
        params = event.get("multiValueQueryStringParameters") or {}
        query = urlencode([(k, v) for k, values in params.items() for v in values])
    else:
        return None
    raw = event.get("body")
    body = (
        b"" if raw is None else base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    )
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() not in _HOP_HEADERS}
    return HttpSample(name, method, path, query, headers, body)


def http_samples(events_dir: Path) -> list[HttpSample]:
    samples = []
    for file in sorted(events_dir.glob("*/*.json")):
        try:
            event = json.loads(file.read_text("utf-8"))
        except ValueError:
            continue
        sample = as_http_sample(f"{file.parent.name}/{file.stem}", event)
        if sample is not None:
            samples.append(sample)
    return samples


# Bitrix24 event name → the entity its `data[FIELDS][ID]` names (ONCRMDEALADD → DEAL).
_B24_ENTITIES = ("DEAL", "COMPANY", "CONTACT")
_B24_ID_FIELD = "data[FIELDS][ID]"


def b24_entity(sample: HttpSample) -> tuple[str, int] | None:
    """(entity, id) a Bitrix24 outbound-event sample is about; None for other samples."""
    if "x-www-form-urlencoded" not in sample.headers.get("content-type", ""):
        return None
    form = dict(parse_qsl(sample.body.decode("utf-8", "replace"), keep_blank_values=True))
    event, raw_id = form.get("event", "").upper(), form.get(_B24_ID_FIELD, "")
    entity = next((e for e in _B24_ENTITIES if event.startswith(f"ONCRM{e}")), None)
    if entity is None or not raw_id.isdigit():
        return None
    return entity, int(raw_id)


def with_b24_id(sample: HttpSample, new_id: int) -> HttpSample:
    """The same event about another entity id (the sandbox portal's own object)."""
    pairs = [
        (key, str(new_id) if key == _B24_ID_FIELD else value)
        for key, value in parse_qsl(sample.body.decode("utf-8"), keep_blank_values=True)
    ]
    return replace(sample, body=urlencode(pairs).encode("utf-8"))


def signed_now(sample: HttpSample, secret: str, now: datetime | None = None) -> HttpSample:
    """A signed push sample (`x-bridge-signature`) signed again for `now`; any other unchanged.

    The recorded timestamp is long past, and `POST /1c/events` refuses a push more than
    5 minutes old (that is the replay protection), so a replay must sign like the 1C side would.
    """
    if SIGNATURE_HEADER not in {k.lower() for k in sample.headers}:
        return sample
    headers = {k: v for k, v in sample.headers.items() if not k.lower().startswith("x-bridge-")}
    headers.update(signed_headers(secret, sample.body, now or datetime.now(UTC)))
    return replace(sample, headers=headers)
