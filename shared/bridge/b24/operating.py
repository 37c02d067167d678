"""Per-method operating-time budget, learned from each response's `time.operating`.

Bitrix24 sums each method's server time over a sliding 10 minutes and answers 429 once the sum
passes the budget (480 s in the docs' example). We stop calling a method a little before that,
because a 429 costs a request from the leaky bucket and tells us nothing new. The view is per
process: another Lambda learns the same numbers from its own responses.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from bridge.b24.models import CallTime

WINDOW_S = 600.0  # the budget's sliding window; an observation older than this is void


@dataclass(frozen=True, slots=True)
class Usage:
    operating: float
    reset_at: float | None
    observed_at: float

    def expires_at(self) -> float:
        """When this observation stops mattering: the reported reset, or the window's end."""
        return self.reset_at if self.reset_at is not None else self.observed_at + WINDOW_S


class OperatingBudget:
    def __init__(self, budget_s: float = 480.0, headroom: float = 0.9) -> None:
        self.budget_s = budget_s
        self.headroom = headroom
        self._usage: dict[str, Usage] = {}
        self._lock = threading.Lock()

    @property
    def threshold_s(self) -> float:
        return self.budget_s * self.headroom

    def record(self, method: str, call_time: CallTime, now: float) -> None:
        if call_time.operating is None:
            return
        with self._lock:
            self._usage[method.lower()] = Usage(call_time.operating, call_time.operating_reset_at, now)

    def exhausted(self, method: str, reset_at: float | None, now: float) -> None:
        """Bitrix24 said 429: treat the method as over budget until `reset_at` (or the window's end)."""
        with self._lock:
            self._usage[method.lower()] = Usage(self.budget_s, reset_at, now)

    def reset_at(self, method: str) -> float | None:
        with self._lock:
            usage = self._usage.get(method.lower())
        return usage.reset_at if usage else None

    def blocked_until(self, method: str, now: float) -> float | None:
        """The time to wait for, if the method is above the headroom; None when it may be called."""
        with self._lock:
            usage = self._usage.get(method.lower())
            if usage is None or usage.operating <= self.threshold_s:
                return None
            until = usage.expires_at()
            if until <= now:
                del self._usage[method.lower()]
                return None
            return until

    def forget(self, method: str) -> None:
        with self._lock:
            self._usage.pop(method.lower(), None)
