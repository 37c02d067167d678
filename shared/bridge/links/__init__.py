"""SyncTable link store: links between Bitrix24 and 1C objects, cursors, manifests, audit."""

from bridge.links.claims import Claim, ClaimHeld, counterparty_claim_name
from bridge.links.errors import CursorConflict, LinkConflict, LinkNotFound, StoreBusy, StoreError
from bridge.links.fingerprint import fingerprint
from bridge.links.models import AuditEntry, B24Ref, Cursor, Link, OneCRef
from bridge.links.store import LinkStore

__all__ = [
    "AuditEntry",
    "B24Ref",
    "Claim",
    "ClaimHeld",
    "Cursor",
    "CursorConflict",
    "Link",
    "LinkConflict",
    "LinkNotFound",
    "LinkStore",
    "OneCRef",
    "StoreBusy",
    "StoreError",
    "counterparty_claim_name",
    "fingerprint",
]
