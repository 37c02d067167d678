"""What a Bitrix24 call returns: the success envelope, its `time` block, and merged batch results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.b24.errors import B24Error, B24PermanentError


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def optional_int(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def yes_no(value: Any) -> bool | None:
    """A Bitrix24 "boolean": `"Y"`/`"N"` in the docs' sense (fidelity-notes §4), also tolerating a
    JSON true/false, 1/0 and "true"/"false". None for anything else: the caller says so."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold() if isinstance(value, str | int) else None
    if text in ("y", "yes", "true", "1"):
        return True
    if text in ("n", "no", "false", "0", ""):
        return False
    return None


@dataclass(frozen=True, slots=True)
class CallTime:
    """The `time` object. Every key is optional: samples and portals differ (README §1.3, §12)."""

    start: float | None = None
    finish: float | None = None
    duration: float | None = None
    processing: float | None = None
    date_start: str | None = None
    date_finish: str | None = None
    operating: float | None = None
    operating_reset_at: float | None = None

    @classmethod
    def parse(cls, raw: Any) -> CallTime:
        if not isinstance(raw, Mapping):
            return cls()
        return cls(
            start=_number(raw.get("start")),
            finish=_number(raw.get("finish")),
            duration=_number(raw.get("duration")),
            processing=_number(raw.get("processing")),
            date_start=_text(raw.get("date_start")),
            date_finish=_text(raw.get("date_finish")),
            operating=_number(raw.get("operating")),
            operating_reset_at=_number(raw.get("operating_reset_at")),
        )


@dataclass(frozen=True, slots=True)
class B24Response:
    """A success envelope: `result` as sent; `total`/`next` only on list methods."""

    result: Any
    total: int | None = None
    next: int | None = None
    time: CallTime = field(default_factory=CallTime)


@dataclass(frozen=True, slots=True)
class Command:
    """One batch command. `params` use the method's natural JSON shape; the client encodes them."""

    method: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Every chunk's sections merged by command key (positional commands get keys "0", "1", …).

    A key is in `result` when its command succeeded, in `errors` when it failed, and in neither when
    `halt` stopped the batch before it ran.
    """

    result: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, B24Error] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    next: dict[str, int] = field(default_factory=dict)
    time: dict[str, CallTime] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise the first failure, preferring a permanent one (it decides whether to retry)."""
        if not self.errors:
            return
        failures: list[B24Error] = list(self.errors.values())
        permanent = [e for e in failures if isinstance(e, B24PermanentError)]
        raise (permanent or failures)[0]
