"""Portal date/time text: ISO 8601 with the portal's offset; inputs in the formats the portal accepts."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

_DISPLAY = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})(?:\s+(\d{2}):(\d{2})(?::(\d{2}))?)?$")


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def now(tz: timezone) -> datetime:
    return datetime.now(tz).replace(microsecond=0)


def parse(value: Any, tz: timezone) -> datetime | None:
    """`YYYY-MM-DD`, ISO datetimes (with or without offset) and `DD.MM.YYYY[ hh:mm[:ss]]`."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    text = str(value).strip()
    match = _DISPLAY.match(text)
    if match:
        day, month, year, hour, minute, second = match.groups()
        try:
            return datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=tz
            )
        except ValueError:  # 31.02.2024, 99.99.9999: no date, like text fromisoformat refuses
            return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def as_datetime_text(value: Any, tz: timezone) -> str | None:
    parsed = parse(value, tz)
    if parsed is None:
        return None
    try:
        return iso(parsed.astimezone(tz))
    except OverflowError:  # 0001-01-01T00:00+14:00 is no moment of the portal's calendar
        return None


def as_date_text(value: Any, tz: timezone) -> str | None:
    """`date` CRM fields come back as local midnight with the offset (README §1.3)."""
    parsed = parse(value, tz)
    if parsed is None:
        return None
    # The calendar day as written by the caller, whatever offset it carried.
    day = parsed.date()
    return iso(datetime(day.year, day.month, day.day, tzinfo=tz))
