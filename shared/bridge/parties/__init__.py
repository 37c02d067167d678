"""Counterparties ⇄ companies/contacts and contact persons ⇄ contacts, both ways (§2.2.12, §2.2.13)."""
