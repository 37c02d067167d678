"""The flows' notes and audit items in a manager's words (Russian), one line each.

The flows note what they did in short English for operators (`order 000123 updated for deal 42`,
`nothing: the mapped fields are unchanged`); the tab shows the same facts to a manager. A note no
pattern knows is shown as it is rather than dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

type Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _rule(pattern: str, words: Callable[[re.Match[str]], str]) -> Rule:
    return re.compile(pattern, re.DOTALL), words


_VERBS = {"created": "создан", "updated": "обновлён", "completed": "выполнен", "cancelled": "отменён"}

NOTES: tuple[Rule, ...] = (
    _rule(r"^order (\S+) created for deal \d+", lambda m: f"создан заказ 1С № {m[1]}"),
    _rule(r"^order (\S+) found \(created by an earlier attempt\)", lambda m: f"найден заказ 1С № {m[1]}"),
    _rule(r"^order (\S+) updated for deal \d+", lambda m: f"заказ 1С № {m[1]} обновлён по сделке"),
    _rule(r"^order (\S+) (completed|cancelled)\b", lambda m: f"заказ 1С № {m[1]} {_VERBS[m[2]]}"),
    _rule(
        r"^nothing: the mapped fields are unchanged", lambda m: "изменений нет: заказ 1С совпадает со сделкой"
    ),
    _rule(
        r"^nothing: stage '.*' is not a trigger stage",
        lambda m: "заказ не создаётся: сделка ещё не на стадии создания заказа",
    ),
    _rule(
        r"^nothing: the 1C order is already (\w+)",
        lambda m: "заказ 1С уже закрыт, сделка с ним не обменивается",
    ),
    _rule(r"^nothing: the deal is lost and has no 1C order", lambda m: "сделка проиграна, заказа в 1С нет"),
    _rule(
        r"^nothing: the deal is won; its order belongs to the copy, deal (\d+)",
        lambda m: f"сделка выиграна; её заказ — у копии, сделки {m[1]}",
    ),
    _rule(
        r"^out of stock: copied to the materials funnel as deal (\d+)",
        lambda m: f"товара нет в наличии: сделка скопирована в воронку «Заказ материала» (сделка {m[1]})",
    ),
    _rule(r"^reported: the deal is won but has no 1C order", lambda m: "сделка выиграна, а заказа в 1С нет"),
    _rule(
        r"^not created: no 1C nomenclature for (.*)",
        lambda m: f"заказ не создан: нет номенклатуры 1С для товаров {m[1]}",
    ),
    _rule(
        r"^not created: the deal has no company or contact", lambda m: "заказ не создан: у сделки нет клиента"
    ),
    _rule(r"^not created: (.*)", lambda m: f"заказ не создан: {m[1]}"),
    _rule(r"^not updated: (.*)", lambda m: f"заказ не обновлён: {m[1]}"),
    _rule(
        r"^the deal has no 1C order yet: the flow decides whether to create one",
        lambda m: "заказа в 1С ещё не было",
    ),
    _rule(r"^failed: (.*)", lambda m: f"ошибка: {m[1]}"),
    _rule(r"^nothing: (.*)", lambda m: f"без изменений ({m[1]})"),
)


def note(text: str) -> str:
    """One flow note in a manager's words; unknown notes as they are."""
    stripped = text.strip()
    for pattern, words in NOTES:
        match = pattern.match(stripped)
        if match:
            return words(match)
    return stripped


_FLOWS = {
    "b24-events": "Битрикс24",
    "deals": "Сделка → 1С",
    "payments": "Оплаты 1С",
    "repair": "Вручную",
    "parties": "Контрагенты",
    "catalog": "Каталог",
    "deal_tab": "Вкладка «1С»",
}
_EVENTS = {
    "ONCRMDEALADD": "сделка создана",
    "ONCRMDEALUPDATE": "сделка изменена",
}
_OUTCOMES = {
    "ignored": "не обрабатывается",
    "failed": "ошибка",
    "Resync": "синхронизация вручную",
    "ResyncFailed": "синхронизация вручную не удалась",
    "NotExchanged": "обмен не нужен",
    "CopiedToMaterials": "скопирована в воронку «Заказ материала»",
    "LinkedExisting": "связана с заказом, введённым в 1С раньше",
    "sweep-gave-up": "сверка не смогла обработать сделку",
    "link_conflict": "не связано: объект 1С уже связан с другой записью Битрикс24",
}
_WHY = ("text", "reason", "problem", "error")


def journal_line(flow: str, outcome: str, detail: Mapping[str, Any]) -> str:
    """One audit item as a line: who, what happened, why."""
    who = _FLOWS.get(flow, flow)
    if flow == "b24-events":
        event = _EVENTS.get(str(detail.get("event", "")), str(detail.get("event", "событие")))
        what = note(str(detail.get("detail") or "")) if outcome == "done" else _OUTCOMES.get(outcome, outcome)
        return f"{who}: {event} — {what}" if what else f"{who}: {event}"
    head = _OUTCOMES.get(outcome, outcome)
    notes = detail.get("notes")
    if isinstance(notes, list) and notes:
        return f"{who}: {head} — " + "; ".join(note(str(n)) for n in notes)
    why = next((str(detail[k]) for k in _WHY if detail.get(k)), "")
    return f"{who}: {head}" + (f" — {note(why)}" if why else "")


def resync_outcome(ok: bool, notes: list[str], problem: str | None, told: str | None) -> str:
    """What the button did, in a sentence: the flow's notes in words, or why it failed (the text
    the flow told the manager, when it told one)."""
    said = "; ".join(note(n) for n in notes if n.strip()) or "изменений нет"
    if ok:
        return f"Синхронизировано: {said}."
    reason = told or note(problem or "") or said
    return f"Синхронизация не удалась: {reason}"
