"""The service's reader over the index: `journey(journey)` and `journeys(filters)` answered
from the tables, as `journeychain.service.reader.ClientReader` answers them from the chain (the
same rows, the same refusals), after bringing the index up to date.

    from journeychain.index import Index
    from journeychain.index.reader import IndexReader

    reader = IndexReader(Index.open(None, client.deployment), client)
    JourneyService(..., reader=reader)
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from journeychain.errors import NotFoundError
from journeychain.index.store import Index
from journeychain.sdk.types import JourneyState
from journeychain.service.reader import state_row

#: A journey's fields, in the order ClientReader gives them.
STATE_FIELDS = tuple(f.name for f in fields(JourneyState))


class IndexReader:
    """A JourneyReader (journeychain.service.reader) over an index of `client`'s deployment."""

    def __init__(self, index: Index, client: Any, sync: bool = True):
        self.index, self.client, self.sync = index, client, sync

    def _now(self) -> int:
        if self.sync:
            self.index.sync(self.client.chain)
        return int(self.client.chain.now())

    def _reference(self, jid: str) -> str | None:
        reference = self.client.reference(bytes.fromhex(jid[2:]))
        return str(reference) if reference else None

    def journey(self, journey: str) -> dict[str, Any]:
        """Where a journey stands, as ClientReader gives it; NotFoundError if it was never opened."""
        now = self._now()
        jid = "0x" + self.client.journey_id(journey).hex()
        state = self.index.state(jid, now, self._reference(jid))
        if state is None:
            raise NotFoundError(f"journey {journey} was never opened on this deployment")
        return state_row(state.as_dict(), now)

    def journeys(self, filters: Any) -> list[dict[str, Any]]:
        """The journeys that pass the filters (the service's JourneyFilters), oldest first."""
        if hasattr(filters, "check"):
            filters.check()
        now = self._now()
        return [
            {
                name: self._reference(row["journey_id"]) if name == "reference" else row[name]
                for name in STATE_FIELDS
            }
            | {"overdue": row["overdue"], "opened_block": row["opened_block"]}
            for row in self.index.journeys(filters, now=now)
        ]
