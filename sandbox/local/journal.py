"""In-memory record of every invocation the local stack made (what CloudWatch Logs would show)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Invocation:
    seq: int
    function: str  # logical id
    trigger: str  # "http", "sqs", "schedule", "manual"
    source: str  # route key, queue logical id, schedule name
    request_id: str
    started_at: float  # epoch seconds
    event: Any
    duration_ms: float = 0.0
    outcome: str = "running"  # "ok", "error", "timeout"
    result: Any = None
    error: dict[str, Any] | None = None
    logs: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)  # e.g. HTTP status, SQS deleted/kept ids
    done: bool = False  # the trigger has finished with the result (deleted messages, answered HTTP)

    def summary(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "function": self.function,
            "trigger": self.trigger,
            "source": self.source,
            "request_id": self.request_id,
            "started_at": self.started_at,
            "duration_ms": round(self.duration_ms, 1),
            "outcome": self.outcome,
            "error": self.error,
            "notes": self.notes,
        }


class Journal:
    """Thread-safe, bounded, oldest first; `wait_for` lets tests block on an expected invocation."""

    def __init__(self, capacity: int = 2000) -> None:
        self._items: deque[Invocation] = deque(maxlen=capacity)
        self._changed = threading.Condition()
        self._seq = 0

    def open(self, function: str, trigger: str, source: str, request_id: str, event: Any) -> Invocation:
        with self._changed:
            self._seq += 1
            item = Invocation(self._seq, function, trigger, source, request_id, time.time(), event)
            self._items.append(item)
            self._changed.notify_all()
            return item

    def close(self, item: Invocation) -> None:
        with self._changed:
            item.done = True
            self._changed.notify_all()

    def entries(self) -> list[Invocation]:
        with self._changed:
            return list(self._items)

    def wait_for(
        self, predicate: Callable[[Invocation], bool], timeout: float = 10.0, *, finished: bool = True
    ) -> Invocation:
        """The first invocation matching `predicate` (and finished, unless told otherwise)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for item in self._items:
                    if (item.done or not finished) and predicate(item):
                        return item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching invocation within {timeout} s")
                self._changed.wait(remaining)
