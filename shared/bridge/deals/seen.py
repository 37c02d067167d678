"""Which Bitrix24 modification of a deal the bridge has already accounted for.

The sweep re-queues a linked deal when Bitrix24 says it was modified after the last sync. Our own
write-back (order number and key on the deal) modifies the deal too, so comparing `DATE_MODIFY`
with the time the link was written would call every synced deal "behind" once the write-back
lands in a later second: the sweep would queue it, the worker would find nothing to do, and after
`MAX_RETRIES` the sweep would raise a false "gave up" alarm.

So the link keeps `seen_modify`, always on Bitrix24's own clock (no skew with this function's):
- the `DATE_MODIFY` of the deal each run decided on (create, update, or "nothing changed");
- after a write-back lands, the server's finish time of that `crm.deal.update` command (its
  `result_time`), which cannot be earlier than the `DATE_MODIFY` the update set.

A portal that sends no `result_time` costs one harmless re-queue per write-back: the worker's
"nothing changed" run (or the webhook echo of the write-back) records the new `DATE_MODIFY`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bridge.b24.models import CallTime
from bridge.observability import logger
from bridge.ports import Ports
from bridge.store import B24Ref, Link, OneCRef

SEEN_KEY = "seen_modify"


def seen_text(moment: datetime) -> str:
    return moment.isoformat()


def seen_of(link: Link) -> datetime | None:
    raw = link.extra.get(SEEN_KEY)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def modified_since(modified: datetime | None, link: Link) -> bool:
    """True when Bitrix24's `DATE_MODIFY` may hold a change the link has not accounted for."""
    if modified is None:
        return True
    mark = seen_of(link) or link.synced_at
    try:
        return modified > mark
    except TypeError:  # one side without an offset: not comparable, let the worker decide
        return True


def written_at(time: CallTime | None) -> datetime | None:
    """When Bitrix24 finished a command, on its clock; None when the answer does not say."""
    if time is None:
        return None
    if time.finish is not None:
        return datetime.fromtimestamp(time.finish, UTC)
    if time.date_finish:
        try:
            return datetime.fromisoformat(time.date_finish)
        except ValueError:
            return None
    return None


def note_seen(ports: Ports, deal: B24Ref, order: OneCRef, moment: datetime) -> None:
    """Record `moment` on the deal ⇄ order link. Best effort: when it fails, the sweep queues the
    deal once more and that run records it; the failure is logged."""
    try:
        ports.store.links.note_extra(deal, order, SEEN_KEY, seen_text(moment))
    except Exception as error:  # the write-back itself landed; this is bookkeeping only
        logger.warning(
            "could not record the deal's last seen modification; the sweep will look at it once more",
            extra={"deal": deal.id, "error": type(error).__name__, "reason": str(error)},
        )
