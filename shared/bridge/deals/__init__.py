"""Deal → 1C customer order: the pure core (issue 4).

Bitrix24 wire data is parsed into models (`models`), read in one batch (`snapshot`), judged against
the funnels (`stages`, `decisions`), matched to a 1C counterparty (`parties`), mapped to OData bodies
(`mapping`) and reported back to the deal (`writeback`). Nothing here performs I/O: the flow wires
the clients and the link store around these functions, so every rule is testable on plain data.
"""
