"""1C nomenclature → Bitrix24 catalog (nested sections, products, prices) and stock (spec §2.2.11.3).

Pure core (`model`, `plan`), 1C reads (`reader`), Bitrix24 writes (`writer`), the flows that tie
them together (`flow`), the setup step (`setup`); from a terminal: `python -m bridge.cli catalog sync|stock`.
"""
