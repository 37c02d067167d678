"""The JSON samples under tests/fixtures: each file read once per run, handed out as a fresh copy."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@cache
def _read(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def load(name: str) -> Any:
    """A fresh copy of a fixture each call, so tests may edit it."""
    return json.loads(_read(name))
