"""The dialer's tables on the service's connection: campaigns, leads, the attempt ledger, DNC,
dispositions and callbacks (schema: migrations 003 and 004). All times are unix seconds.

The ledger's rule: ``open_attempt`` commits the attempt (and the lead's attempt count) before
it returns, so the runtime awaits it before the INVITE leaves; ``recover`` closes at start-up
every attempt still 'dialing' as 'lost' and reschedules its lead: never dialled again as itself.

Every write of more than one statement runs as ONE function on aiosqlite's worker thread,
between BEGIN IMMEDIATE and COMMIT (``_atomic``). The connection is shared with the CDR writer;
a transaction spread over several awaits would let another coroutine's statement fall inside
it, and be rolled back with it. aiosqlite has no public call for this: ``Connection._execute``
queues a function on its thread, as its own methods do.
"""
from __future__ import annotations

from callfloor.store.dialer.core import (
    AttemptClosedError,
    DispositionError,
    DuplicateAttemptError,
    NotDialableError,
    UnknownAttemptError,
    UnknownCampaignError,
    UnknownLeadError,
)
from callfloor.store.dialer.leads import LeadsMixin
from callfloor.store.dialer.lists import ListsMixin

__all__ = [
    "AttemptClosedError",
    "DialerStore",
    "DispositionError",
    "DuplicateAttemptError",
    "NotDialableError",
    "UnknownAttemptError",
    "UnknownCampaignError",
    "UnknownLeadError",
]


class DialerStore(LeadsMixin, ListsMixin):
    """The dialer's rows on a ``Store``'s connection (or any aiosqlite connection).

    ``DialerStore(store)``; ``sync_campaigns`` first, then imports, the ledger and the lists.
    """
