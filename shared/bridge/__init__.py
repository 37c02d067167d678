"""The 1C:УНФ ⇄ Bitrix24 bridge: the Lambda layer's one package.

Layout: `settings` (typed configuration), `b24` (Bitrix24 REST client), `onec` (1C OData client),
`store` (SyncTable: links, cursors, manifests, audit, resolved config, lease, rate bucket),
`pipeline` (webhook receiver and queue worker logic), flows in their own subpackages. Only
adapters import boto3 or httpx; logic is pure.
"""
