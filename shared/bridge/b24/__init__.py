"""Bitrix24 REST: the webhook client, batch, paging, the shared rate budget, typed errors.

`client.B24Client` (call/batch/list_all), `factory.default_client()` (wired from settings),
`ratelimit` (LocalBucket, SharedBucket), `errors` (typed, transient vs permanent), `masking`
(webhook code kept out of logs), `php_query` (the bracket codec).
"""
