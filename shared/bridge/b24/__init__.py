"""Bitrix24 REST: the webhook client, batch, paging, the shared rate budget, typed errors."""
