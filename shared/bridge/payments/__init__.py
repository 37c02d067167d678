"""1C payments, order states and order sums → the linked Bitrix24 deal (issue 5, docs/payments-flow.md).

Pure core: `config` (what people configure), `models`, `rules` (totals, type, status, method,
mapped fields, stage decisions), `text` (notification and registry contents), `manifest` (change
detection values). Edges: `onec_reads`, `resolved` and `state` (SyncTable), `recompute` (one
order), `poller` (the scheduled run), `push` (POST /1c/events), `setup`, `wiring`.
"""
