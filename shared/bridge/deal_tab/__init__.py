"""The «1С» tab in the Bitrix24 deal card (issue 14, docs/deal-tab.md): security, read model, pages."""
