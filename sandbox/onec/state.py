"""Everything one emulator instance holds: model, data, journal, faults (exposed as app.state.base)."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.onec.config import OneCEmulatorConfig
from sandbox.onec.model import ServiceModel, full_model, published_model
from sandbox.onec.seed import RefMap, seed
from sandbox.onec.storage import Store
from sandbox.onec.writes import ObjectWriter


@dataclass
class Fault:
    kind: str  # error | hang | slow
    remaining: int
    path_prefix: str = ""
    method: str | None = None
    seconds: float = 0.0
    status: int = 500

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and (self.method is None or self.method.upper() == method)
            and path.startswith(self.path_prefix)
        )

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "remaining": self.remaining,
            "path_prefix": self.path_prefix,
            "method": self.method,
            "seconds": self.seconds,
            "status": self.status,
        }


@dataclass
class EmulatorState:
    config: OneCEmulatorConfig
    model: ServiceModel
    store: Store
    writer: ObjectWriter
    seed_refs: RefMap = field(default_factory=dict)
    journal: list[dict[str, Any]] = field(default_factory=list)
    journal_seq: int = 0
    faults: list[Fault] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Open wire questions switched to one plausible answer (`/_sandbox/answers`, docs/sandbox-onec.md).
    answers: dict[str, Any] = field(default_factory=dict)

    def publish(self, published: frozenset[str] | None) -> None:
        """Change the publication's composition (`/_sandbox/publication`): None = every set."""
        with self.lock:
            self.model = published_model(published)

    def now(self) -> str:
        if self.config.fixed_now:
            return self.config.fixed_now
        return dt.datetime.now().replace(microsecond=0).isoformat()

    def reset(self) -> None:
        with self.lock:
            self.store.clear()
            self.seed_refs = seed(full_model(), self.writer, self.config) if self.config.seed else {}

    def record_call(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.journal_seq += 1
            self.journal.append({"seq": self.journal_seq, **entry})
            overflow = len(self.journal) - self.config.journal_limit
            if overflow > 0:
                del self.journal[:overflow]

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    return fault
            self.faults = [f for f in self.faults if f.remaining > 0]
            return None


def build_state(config: OneCEmulatorConfig) -> EmulatorState:
    store = Store(full_model())
    holder: dict[str, EmulatorState] = {}
    writer = ObjectWriter(store, lambda: holder["state"].now())
    state = EmulatorState(config, published_model(config.published), store, writer)
    holder["state"] = state
    state.reset()
    return state
