"""Per-method operating-time budget, learned from each response's `time.operating`.

Bitrix24 sums each method's server time over a sliding 10 minutes (ten one-minute buckets) and
answers 429 OPERATION_TIME_LIMIT once the sum passes the budget (480 s in the docs). A 429 costs a
request from the leaky bucket and blocks the method for everyone on the portal, so we pace instead:
before each call we check that the call's expected cost still fits under `headroom × budget` and
otherwise wait until enough of the window has expired.

To know *when* usage expires we keep a mirror of the portal's ledger per method: every observed
rise of `time.operating` is an entry stamped with the moment we saw it. The portal's bucket holding
that charge opened no later than that moment, so our entry expires no earlier than the portal's —
the mirror errs on the safe side. Usage we did not see being charged (the first observation of a
method, other Lambdas' calls) is assumed to expire at the reported `operating_reset_at`, and every
answer re-synchronises the mirror with the portal's figure. The expected cost of one call is the
median rise seen for one call recently (a median, so another client's usage arriving between two
of our calls does not inflate it). The view is per process: another Lambda learns the same
numbers from its own responses.

What `status` shows: a process's view is also published (`publish_to`) to one SyncTable item, at
most every `PUBLISH_EVERY_S` per process and at once when a method passes 50 % or 90 % of its
budget or the portal blocks it, so that the operator sees the headroom at the cost of a write a
minute or so. A failed publication is logged and never fails the call that observed the figure.
"""

from __future__ import annotations

import statistics
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bridge.b24.models import CallTime
from bridge.observability import logger

WINDOW_S = 600.0  # the budget's sliding window; an observation older than this is void
_COST_SAMPLES = 100  # per-call rises remembered for the cost estimate
PUBLISH_EVERY_S = 45.0  # one snapshot write per process at most this often, band changes aside
BANDS = (0.5, 0.9)  # shares of the budget whose crossing is published at once


@dataclass(frozen=True)
class MethodOperating:
    """One method's operating time as a process last saw it (epoch seconds throughout)."""

    method: str
    used_s: float
    budget_s: float
    reset_at: float | None
    seen_at: float
    blocked_until: float | None = None  # the portal answered 429 OPERATION_TIME_LIMIT

    @property
    def share(self) -> float:
        return self.used_s / self.budget_s if self.budget_s > 0 else 0.0

    @property
    def headroom_s(self) -> float:
        return max(self.budget_s - self.used_s, 0.0)

    def blocked(self, now: float) -> bool:
        return self.blocked_until is not None and self.blocked_until > now

    @property
    def band(self) -> int:
        """0 below 50 %, 1 from 50 %, 2 from 90 %, 3 blocked by the portal."""
        if self.blocked_until is not None and self.blocked_until > self.seen_at:
            return len(BANDS) + 1
        return sum(self.share >= limit for limit in BANDS)


class OperatingSink(Protocol):
    """Where snapshots go (`bridge.store.operating.OperatingSnapshots` in AWS; injected)."""

    def publish(self, methods: Sequence[MethodOperating]) -> None: ...


@dataclass(slots=True)
class _Ledger:
    entries: deque[list[float]] = field(default_factory=deque)  # [expires_at, seconds], oldest first
    costs: deque[float] = field(default_factory=lambda: deque(maxlen=_COST_SAMPLES))
    last_seen: float | None = None  # the portal's figure at the last observation
    reset_at: float | None = None
    total: float = 0.0  # sum of `entries`, kept as they come and go (thousands in a bulk run)

    def live(self, now: float) -> float:
        while self.entries and self.entries[0][0] <= now:
            self.total -= self.entries.popleft()[1]
        if not self.entries:
            self.total = 0.0  # no drift from float rounding once the window is empty
        return self.total

    def trim_to(self, total: float) -> None:
        """The portal released more than we assumed: drop the oldest usage down to its figure."""
        excess = self.total - total
        while excess > 1e-9 and self.entries:
            oldest = self.entries[0]
            if oldest[1] <= excess:
                excess -= oldest[1]
                self.total -= self.entries.popleft()[1]
            else:
                oldest[1] -= excess
                self.total -= excess
                excess = 0.0

    def add(self, expires_at: float, seconds: float) -> None:
        # Kept sorted by expiry: usage assumed to expire at the reported reset may precede entries.
        index = len(self.entries)
        while index and self.entries[index - 1][0] > expires_at:
            index -= 1
        self.entries.insert(index, [expires_at, seconds])
        self.total += seconds

    def clear(self) -> None:
        self.entries.clear()
        self.total = 0.0


class OperatingBudget:
    def __init__(self, budget_s: float = 480.0, headroom: float = 0.9) -> None:
        self.budget_s = budget_s
        self.headroom = headroom
        self._ledgers: dict[str, _Ledger] = {}
        self._lock = threading.Lock()
        self._sink: OperatingSink | None = None
        self._every_s = PUBLISH_EVERY_S
        self._published_at: float | None = None
        self._published_band: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._blocked: dict[str, float] = {}

    def publish_to(self, sink: OperatingSink, every_s: float = PUBLISH_EVERY_S) -> None:
        """Send this process's view to `sink` from now on (see the module's docstring)."""
        self._sink = sink
        self._every_s = every_s

    @property
    def threshold_s(self) -> float:
        return self.budget_s * self.headroom

    def _ledger(self, method: str) -> _Ledger:
        return self._ledgers.setdefault(method.lower(), _Ledger())

    def record(self, method: str, call_time: CallTime, now: float) -> None:
        """One answered call of `method` and the portal's figure after it."""
        reported = call_time.operating
        if reported is None:
            return
        with self._lock:
            ledger = self._ledger(method)
            known = ledger.live(now)
            if reported > known:
                rise = reported - known
                if ledger.last_seen is None:
                    # Usage from before we looked: assume it goes when the portal says a part does.
                    expires = call_time.operating_reset_at or now + WINDOW_S
                else:
                    expires = now + WINDOW_S
                    ledger.costs.append(rise)
                ledger.add(max(expires, now), rise)
            elif reported < known:
                ledger.trim_to(reported)
            ledger.last_seen = reported
            ledger.reset_at = call_time.operating_reset_at
            due = self._due(method.lower(), now)
        self._send(due)

    def exhausted(self, method: str, reset_at: float | None, now: float) -> None:
        """Bitrix24 said 429: treat the method as over budget until `reset_at` (or the window's end)."""
        with self._lock:
            ledger = self._ledger(method)
            ledger.clear()
            until = reset_at if reset_at is not None else now + WINDOW_S
            ledger.add(until, self.budget_s)
            ledger.last_seen = self.budget_s
            ledger.reset_at = reset_at
            self._blocked[method.lower()] = until
            due = self._due(method.lower(), now)
        logger.warning(
            f"Bitrix24 blocked {method} for operating time (429 OPERATION_TIME_LIMIT) until {until:.0f}",
            extra={"b24_method": method, "blocked_until": round(until, 3)},
        )
        self._send(due)

    def reset_at(self, method: str) -> float | None:
        with self._lock:
            ledger = self._ledgers.get(method.lower())
        return ledger.reset_at if ledger else None

    def cost_per_call(self, method: str) -> float:
        """The median rise seen for one call of `method` lately (0 until one was seen)."""
        with self._lock:
            ledger = self._ledgers.get(method.lower())
            return _median(ledger.costs) if ledger else 0.0

    def used(self, method: str, now: float) -> float:
        with self._lock:
            ledger = self._ledgers.get(method.lower())
            return ledger.live(now) if ledger else 0.0

    def blocked_until(self, method: str, now: float, calls: int = 1) -> float | None:
        """When `calls` more calls of `method` fit under the headroom; None when they fit now."""
        with self._lock:
            ledger = self._ledgers.get(method.lower())
            if ledger is None:
                return None
            need = calls * _median(ledger.costs)
            remaining = ledger.live(now)
            if remaining + need <= self.threshold_s:
                return None
            until = now
            for expires_at, seconds in ledger.entries:
                remaining -= seconds
                until = expires_at
                if remaining + need <= self.threshold_s:
                    break
            return until

    def _view(self, method: str, now: float) -> MethodOperating:
        ledger = self._ledgers[method]
        blocked = self._blocked.get(method)
        return MethodOperating(
            method,
            ledger.live(now),
            self.budget_s,
            ledger.reset_at,
            now,
            blocked if blocked and blocked > now else None,
        )

    def _due(self, method: str, now: float) -> list[MethodOperating]:
        """What to publish after an observation of `method` (under the lock): nothing without a
        sink; every changed method once the interval is up or when `method` rose a band."""
        if self._sink is None:
            return []
        self._dirty.add(method)
        rose = self._view(method, now).band > self._published_band.get(method, 0)
        if not rose and self._published_at is not None and now - self._published_at < self._every_s:
            return []
        views = [self._view(name, now) for name in sorted(self._dirty) if name in self._ledgers]
        self._dirty.clear()
        self._published_at = now
        for view in views:
            self._published_band[view.method] = view.band
        return views

    def _send(self, views: list[MethodOperating]) -> None:
        if not views or self._sink is None:
            return
        try:
            self._sink.publish(views)
        except Exception as error:  # a status side channel must never fail a Bitrix24 call
            logger.warning(
                f"Bitrix24 operating-time snapshot not written: {type(error).__name__}: {error}",
                extra={"b24_methods": [v.method for v in views]},
            )

    def forget(self, method: str) -> None:
        with self._lock:
            self._ledgers.pop(method.lower(), None)


def _median(values: deque[float]) -> float:
    return statistics.median(values) if values else 0.0
