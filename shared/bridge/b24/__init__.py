"""Bitrix24 REST: the webhook client, batch, paging, the shared rate budget, typed errors.

`client.B24Client` (call/batch/list_all), `factory.client_from_settings(limiter)` (settings),
`ratelimit` (RateLimiter, LocalBucket), `errors` (typed, transient vs permanent), `masking`
(webhook code kept out of logs), `php_query` (the bracket codec).
"""
