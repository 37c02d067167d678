"""The tab's lines in a manager's words: the flows' English notes and audit items become Russian
sentences; a note nobody translated is shown as it is, never dropped."""

from __future__ import annotations

from bridge.deal_tab.words import journal_line, note, resync_outcome


def test_the_deal_flow_notes_read_as_russian() -> None:
    assert note("order 00000000002 updated for deal 1") == "заказ 1С № 00000000002 обновлён по сделке"
    assert note("order 000123 created for deal 7") == "создан заказ 1С № 000123"
    assert note("order 000123 completed; shipment 55 created") == "заказ 1С № 000123 выполнен"
    assert note("nothing: stage 'NEW' is not a trigger stage") == (
        "заказ не создаётся: сделка ещё не на стадии создания заказа"
    )
    assert note("not created: no 1C nomenclature for Болт, Гайка") == (
        "заказ не создан: нет номенклатуры 1С для товаров Болт, Гайка"
    )
    assert note("failed: 1C refused the order") == "ошибка: 1C refused the order"
    assert note("something new the flow says") == "something new the flow says"


def test_a_received_event_is_one_line_a_manager_reads() -> None:
    line = journal_line(
        "b24-events",
        "done",
        {"event": "ONCRMDEALUPDATE", "detail": "nothing: the mapped fields are unchanged"},
    )
    assert line == "Битрикс24: сделка изменена — изменений нет: заказ 1С совпадает со сделкой"
    assert (
        journal_line("b24-events", "failed", {"event": "ONCRMDEALADD"})
        == "Битрикс24: сделка создана — ошибка"
    )


def test_problems_keep_the_text_the_manager_was_told() -> None:
    told = "Заказ в 1С не создан: у сделки нет ни компании, ни контакта."
    assert journal_line("deals", "NoBuyer", {"text": told}) == f"Сделка → 1С: NoBuyer — {told}"
    resync = journal_line("repair", "Resync", {"notes": ["order 9 updated for deal 1"], "writes": 1})
    assert resync == "Вручную: синхронизация вручную — заказ 1С № 9 обновлён по сделке"


def test_the_buttons_outcome_is_a_sentence() -> None:
    assert resync_outcome(True, ["order 00000000002 updated for deal 1"], None, None) == (
        "Синхронизировано: заказ 1С № 00000000002 обновлён по сделке."
    )
    assert resync_outcome(True, [], None, None) == "Синхронизировано: изменений нет."
    told = "Заказ в 1С не создан: у сделки нет ни компании, ни контакта."
    assert resync_outcome(False, ["failed: x"], "failed: x", told) == f"Синхронизация не удалась: {told}"
    assert resync_outcome(False, [], "TransientError: 1C is down", None) == (
        "Синхронизация не удалась: TransientError: 1C is down"
    )
