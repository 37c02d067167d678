"""HTML of the tab and of its messages: Jinja2 templates shipped in the layer, autoescaped."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from bridge.deal_tab.view import DealTab


def money(value: Decimal) -> str:
    """12 345,60 — the way a Russian manager reads sums (thin no-break space between thousands)."""
    text = f"{value.quantize(Decimal('0.01')):,.2f}"
    return text.replace(",", "\u202f").replace(".", ",")


def number(value: Decimal) -> str:
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}".rstrip("0")
    return text.replace(".", ",")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bridge.deal_tab", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        auto_reload=False,
    )
    env.globals.update(money=money, number=number)
    return env


def tab_page(
    tab: DealTab, *, hidden: dict[str, str], csrf: str, outcome: str | None = None, outcome_ok: bool = True
) -> str:
    template = environment().get_template("tab.html")
    return template.render(tab=tab, hidden=hidden, csrf=csrf, outcome=outcome, outcome_ok=outcome_ok)


def message_page(anchor: str, heading: str, text: str, **extra: Any) -> str:
    return (
        environment().get_template("message.html").render(anchor=anchor, heading=heading, text=text, **extra)
    )
