"""EventBridge schedules: `rate(...)`, `cron(...)` and `at(...)` expressions, the payload each kind
of schedule delivers, and a runner that fires them (optionally faster than real time)."""

from __future__ import annotations

import functools
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.local.intrinsics import ACCOUNT_ID
from sandbox.local.invoker import Invoker
from sandbox.local.journal import Invocation
from sandbox.local.loop import BackgroundLoop
from sandbox.local.model import ScheduleSpec

log = logging.getLogger("sandbox.schedule")

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_UTC = ZoneInfo("UTC")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}  # AWS: 1 = Sunday


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    if text in ("*", "?"):
        return frozenset(range(low, high + 1))
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(part, names)
            end = high if "/" in text else start
        if not (low <= start <= high and low <= end <= high):
            raise ValueError(f"{part!r} is out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ValueError(f"{text!r} is not supported locally (L, W and # are not)")
    return int(text)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    years: frozenset[int]
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        fields = text.split()
        if len(fields) != 6:
            raise ValueError(
                f"cron needs 6 fields (minutes hours day-of-month month day-of-week year): {text!r}"
            )
        minute, hour, day, month, weekday, year = fields
        return cls(
            _field(minute, 0, 59),
            _field(hour, 0, 23),
            _field(day, 1, 31),
            _field(month.upper(), 1, 12, _MONTHS),
            _field(weekday.upper(), 1, 7, _DAYS),
            _field(year, 1970, 2199),
            day in ("*", "?"),
            weekday in ("*", "?"),
        )

    def _day_matches(self, day: datetime) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        aws_weekday = (day.isoweekday() % 7) + 1
        day_ok, weekday_ok = day.day in self.days, aws_weekday in self.weekdays
        if self.any_day:
            return weekday_ok
        if self.any_weekday:
            return day_ok
        return day_ok and weekday_ok

    def next_after(self, moment: datetime) -> datetime | None:
        """The first matching minute strictly after `moment` (aware), in `moment`'s zone."""
        start = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(366 * 5):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day = (day + timedelta(days=1)).replace(hour=0, minute=0)
        return None


@dataclass(frozen=True)
class Expression:
    """When a schedule fires; `next_after` works in (possibly sped-up) schedule time."""

    text: str
    period: timedelta | None = None
    cron: Cron | None = None
    at: datetime | None = None
    zone: ZoneInfo = _UTC

    @classmethod
    def parse(cls, text: str, timezone: str = "UTC") -> Expression:
        zone = ZoneInfo(timezone)
        text = text.strip()
        if rate := _RATE.match(text):
            value, unit = int(rate.group(1)), rate.group(2)
            if value < 1 or (value == 1) != (not unit.endswith("s")):
                raise ValueError(f"{text!r}: use 'rate(1 minute)' or 'rate(N minutes)' (N > 1)")
            return cls(text, period=timedelta(seconds=value * _UNITS[unit.rstrip("s")]), zone=zone)
        if cron := _CRON.match(text):
            return cls(text, cron=Cron.parse(cron.group(1)), zone=zone)
        if at := _AT.match(text):
            return cls(text, at=datetime.fromisoformat(at.group(1)).replace(tzinfo=zone), zone=zone)
        raise ValueError(f"unsupported schedule expression {text!r}")

    def next_after(self, moment: datetime, anchor: datetime) -> datetime | None:
        if self.period is not None:
            # A rate schedule fires one period after it is created, then every period.
            elapsed = (moment - anchor) // self.period
            return anchor + self.period * (elapsed + 1)
        if self.cron is not None:
            found = self.cron.next_after(moment.astimezone(self.zone))
            return None if found is None else found.astimezone(UTC)
        assert self.at is not None
        return self.at.astimezone(UTC) if self.at > moment else None


def schedule_payload(spec: ScheduleSpec, region: str, when: datetime | None = None) -> Any:
    """What the target function receives: the schedule's Input if set, else the service's default."""
    if spec.input is not None:
        return spec.input
    moment = (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    event: dict[str, Any] = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "account": ACCOUNT_ID,
        "time": moment,
        "region": region,
    }
    if spec.kind == "ScheduleV2":
        # EventBridge Scheduler's default notification; its `detail` is the string "{}".
        return event | {
            "source": "aws.scheduler",
            "resources": [f"arn:aws:scheduler:{region}:{ACCOUNT_ID}:schedule/default/{spec.name}"],
            "detail": "{}",
        }
    return event | {
        "source": "aws.events",
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{spec.name}"],
        "detail": {},
    }


def default_scheduled_event(region: str) -> dict[str, Any]:
    """An EventBridge scheduled event naming no rule (for manual invokes of non-scheduled functions)."""
    event = schedule_payload(
        ScheduleSpec("", "", "Schedule", "manual", "rate(1 minute)", "UTC", None, True, 0), region
    )
    assert isinstance(event, dict)
    event["resources"] = []
    return event


def _note_attempt(invocation: Invocation, attempt: int) -> None:
    invocation.notes["attempt"] = attempt


class ScheduleRunner(BackgroundLoop):
    """Fires one schedule. `speed` > 1 compresses schedule time (rate(1 minute) at 60 → every second)."""

    def __init__(
        self,
        spec: ScheduleSpec,
        invoker: Invoker,
        region: str,
        speed: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spec = spec
        self.expression = Expression.parse(spec.expression, spec.timezone)
        self._invoker = invoker
        self._region = region
        self._speed = speed
        self._clock = clock
        super().__init__(f"schedule-{spec.name}")
        self._started = clock()
        self.fired = 0
        self.next_fire_at: float | None = None  # real epoch seconds
        self.last_outcome: str | None = None

    def _schedule_time(self, real: float) -> datetime:
        return datetime.fromtimestamp(self._started + (real - self._started) * self._speed, UTC)

    def _real_time(self, schedule_time: datetime) -> float:
        return self._started + (schedule_time.timestamp() - self._started) / self._speed

    def start(self) -> None:
        self._started = self._clock()
        super().start()

    def _run(self) -> None:
        anchor = self._schedule_time(self._started)
        moment = anchor
        while not self._stop.is_set():
            upcoming = self.expression.next_after(moment, anchor)
            if upcoming is None:
                log.info("%s: no further occurrence of %s", self.spec.name, self.spec.expression)
                return
            self.next_fire_at = self._real_time(upcoming)
            if self._stop.wait(max(0.0, self.next_fire_at - self._clock())):
                return
            self.fire()
            # A late or slow run skips the occurrences it overlapped, as EventBridge does not replay them.
            moment = max(upcoming, self._schedule_time(self._clock()))

    def fire(self) -> None:
        self.fired += 1
        event = schedule_payload(self.spec, self._region)
        for attempt in range(self.spec.retries + 1):
            log.info(
                "%s (%s) → %s%s",
                self.spec.name,
                self.spec.expression,
                self.spec.function,
                f" retry {attempt}/{self.spec.retries}" if attempt else "",
            )
            invocation = self._invoker.invoke(
                self.spec.function,
                event,
                trigger="schedule",
                source=self.spec.name,
                after=functools.partial(_note_attempt, attempt=attempt),
            )
            self.last_outcome = invocation.outcome
            if invocation.outcome == "ok":
                log.info("%s → %s: ok", self.spec.name, self.spec.function)
                return
            log.warning("%s → %s: %s", self.spec.name, self.spec.function, json.dumps(invocation.error)[:300])
            if self._stop.wait(min(1.0, 60 / self._speed)):
                return
