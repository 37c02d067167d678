"""The `time` object and the success envelope (README §1.3)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sandbox.b24 import clock
from sandbox.b24.registry import Result


def time_object(
    start: float, finish: float, processing: float, operating: float, reset_at: int, tz: timezone
) -> dict[str, Any]:
    return {
        "start": start,
        "finish": finish,
        "duration": finish - start,
        "processing": processing,
        "date_start": clock.iso(datetime.fromtimestamp(int(start), tz)),
        "date_finish": clock.iso(datetime.fromtimestamp(int(finish), tz)),
        "operating_reset_at": reset_at,
        "operating": operating,
    }


def success(result: Result, time: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"result": result.result}
    if result.next is not None:
        body["next"] = result.next
    if result.total is not None:
        body["total"] = result.total
    body["time"] = time
    return body
