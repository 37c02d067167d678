"""Resource paths after the service root: `Set`, `Set(key)`, `Set(key)/Nav`, `Set/Function(args)`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.onec.errors import ODataError, cannot_parse_value, query_option_parse_error
from sandbox.onec.filter import is_guid, normalize_datetime
from sandbox.onec.query import split_top_level

_NAMED_KEY_RE = re.compile(r"^([^\W\d]\w*)=(.*)$", re.DOTALL)
_SEGMENT_RE = re.compile(r"^([^()]+?)(?:\((.*)\))?$", re.DOTALL)


@dataclass
class Segment:
    name: str
    args: str | None  # text inside the parentheses, None when there are none


@dataclass
class ResourcePath:
    segments: list[Segment] = field(default_factory=list)

    @property
    def head(self) -> Segment:
        return self.segments[0]


def parse_path(path: str) -> ResourcePath:
    parts = [p for p in split_top_level(path.strip("/"), "/") if p != ""]
    segments = []
    for part in parts:
        match = _SEGMENT_RE.match(part)
        if not match:
            raise ODataError(400, "6", "Сегмент пути не найден!")
        segments.append(Segment(match.group(1), match.group(2)))
    return ResourcePath(segments)


def parse_literal(text: str) -> Any:
    text = text.strip()
    if text.startswith("guid'") and text.endswith("'"):
        value = text[5:-1]
        if not is_guid(value):
            raise cannot_parse_value(value, "Edm.Guid")
        return value.lower()
    if text.startswith("datetime'") and text.endswith("'"):
        try:
            return normalize_datetime(text[9:-1])
        except ValueError:
            raise query_option_parse_error("ключа") from None
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if text in ("true", "false"):
        return text == "true"
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        raise query_option_parse_error("ключа") from None


def parse_key(text: str) -> dict[str, Any] | Any:
    """A single literal for `(guid'…')`, or name → value for `(Period=datetime'…',Dim_Key=guid'…')`."""
    parts = split_top_level(text)
    if len(parts) == 1 and not _NAMED_KEY_RE.match(parts[0].strip()):
        return parse_literal(parts[0])
    named: dict[str, Any] = {}
    for part in parts:
        match = _NAMED_KEY_RE.match(part.strip())
        if not match:
            raise query_option_parse_error("ключа")
        named[match.group(1)] = parse_literal(match.group(2))
    return named
