"""Answers `check` recorded to the open wire questions (pk `PROBE#<name>`, sk `ANSWER`).

Each "needs a live check" point of docs/sandbox-*.md that a read-only request can settle is a
probe; its answer is kept here so the clients follow what the customer's systems really do. When
nothing is recorded a client keeps tolerating every plausible answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bridge.store.table import Table, text

PROBE_SK = "ANSWER"


def probe_pk(name: str) -> str:
    return f"PROBE#{name}"


@dataclass(frozen=True)
class ProbeAnswer:
    name: str
    answer: str
    detail: str
    at: datetime


class ProbeStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def record(self, name: str, answer: str, detail: str = "") -> ProbeAnswer:
        at = self._table.now()
        self._table.put(
            {
                "pk": text(probe_pk(name)),
                "sk": text(PROBE_SK),
                "answer": text(answer),
                "detail": text(detail),
                "at": text(at.isoformat()),
            }
        )
        return ProbeAnswer(name, answer, detail, at)

    def get(self, name: str) -> ProbeAnswer | None:
        attributes = self._table.get(probe_pk(name), PROBE_SK)
        if attributes is None:
            return None
        return ProbeAnswer(
            name,
            attributes["answer"]["S"],
            attributes.get("detail", {"S": ""})["S"],
            datetime.fromisoformat(attributes["at"]["S"]),
        )

    def answer(self, name: str) -> str | None:
        """The recorded answer, or None (then the caller tolerates every plausible one)."""
        recorded = self.get(name)
        return None if recorded is None else recorded.answer
