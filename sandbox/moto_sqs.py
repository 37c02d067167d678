"""SQS long polls on moto that wait instead of spinning while every visible message is held back.

moto 5's ReceiveMessage loops until its wait time ends, and between passes calls
`Queue.wait_for_messages`, which waits until *some* message is visible. On a FIFO queue a visible
message whose group is in flight cannot be delivered, yet it makes that wait return at once: the
long poll then spins, re-reading every message's visibility thousands of times a second until
its wait time ends. In the deal load (P3) such polls were a third of the sandbox process's CPU
(py-spy, GIL samples, 2026-12-04), the same process that serves both emulators and DynamoDB.

The wait below returns on what can change the answer: a message sent (moto notifies then), or a
short tick for what changes without a notification (a visibility timeout or a delay running
out). A long poll still returns as soon as a deliverable message arrives, as on SQS; a message
that becomes visible by itself is seen within one tick. Pinned by tests/contract/test_moto_sqs.py.
"""

from __future__ import annotations

from moto.sqs.models import Queue

# What becomes deliverable without a notification is seen within this long.
TICK_S = 0.05


def _wait_for_messages(self: Queue, timeout: int) -> None:
    with self._messages_lock:
        if self.messages:
            # Visible, yet the receive found nothing it may deliver (in-flight groups): wait for a
            # new message or the next tick, not for the visibility that is already there.
            self._messages_lock.wait(min(timeout, TICK_S))
        else:
            self._messages_lock.wait_for(lambda: self.messages, timeout=timeout)


def install() -> None:
    """Idempotent; for the moto server this process runs (`sandbox.moto_server.start_moto`)."""
    Queue.wait_for_messages = _wait_for_messages  # type: ignore[method-assign]
