"""What the service reads, behind one small interface: `JourneyReader`.

`ClientReader` answers from the chain through the SDK's client (what `journey status` and
`journey list` read); an indexed read model answers the same two calls from its tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from journeychain.client import JourneyClient
from journeychain.errors import ConfigError, NotFoundError, RuleError

#: The journeys' statuses, as filters take them.
STATUSES = ("open", "disputed", "value_delivered", "expired", "cancelled")
#: Those whose current step has an owner.
ACTIVE = ("open", "disputed")


@dataclass(frozen=True)
class JourneyFilters:
    """Which journeys a list wants; every filter given must hold."""

    status: str | None = None
    playbook: int | None = None
    overdue: bool | None = None
    at_risk: bool | None = None
    organisation: str | None = None  # its number or name
    assignee: str | None = None  # an address

    def check(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise ConfigError(
                f"status {self.status!r} is not a journey status (one of {', '.join(STATUSES)})"
            )
        if self.playbook is not None and not 1 <= self.playbook <= 2**16 - 1:
            raise ConfigError(f"playbook {self.playbook}: playbooks are numbered from 1 to 65535")


class JourneyReader(Protocol):
    """A journey, and journeys by filters, as JSON-ready dicts."""

    def journey(self, journey: str) -> dict[str, Any]: ...

    def journeys(self, filters: JourneyFilters) -> list[dict[str, Any]]: ...


class ClientReader:
    """Reads from the chain through the SDK: each list reads every journey's state."""

    def __init__(self, client: JourneyClient):
        self.client = client

    def journey(self, journey: str) -> dict[str, Any]:
        try:
            state = self.client.journey(journey)
        except RuleError as exc:
            if exc.error == "UnknownJourney":
                raise NotFoundError(str(exc)) from None
            raise
        return state_row(state.as_dict(), self.client.chain.now())

    def journeys(self, filters: JourneyFilters) -> list[dict[str, Any]]:
        filters.check()
        c = self.client
        org = c.organisation_id(filters.organisation) if filters.organisation is not None else None
        assignee = filters.assignee.lower() if filters.assignee else None
        now = c.chain.now()
        found = []
        for entry in c.journeys(filters.playbook):
            row = state_row(c.journey(entry.journey_id).as_dict(), now)
            row["opened_block"] = entry.block
            if filters.status is not None and row["status"] != filters.status:
                continue
            if filters.overdue is not None and row["overdue"] != filters.overdue:
                continue
            if filters.at_risk is not None and row["at_risk"] != filters.at_risk:
                continue
            if assignee is not None and (row["assignee"] or "").lower() != assignee:
                continue
            if org is not None and self._owner_org(row) != org:
                continue
            found.append(row)
        return found

    def _owner_org(self, row: dict[str, Any]) -> int | None:
        """The organisation that owns the journey's current step: its own, or its assignee's."""
        if row["assignee"]:
            return int(self.client.participant_record(row["assignee"])[2])
        return row["org"]


def state_row(state: dict[str, Any], now: int) -> dict[str, Any]:
    """A journey's state as the service answers it: its status as a word, no owner once it is
    settled, and whether its current step is overdue at `now` (the chain's or the index's)."""
    status = state["status"].replace(" ", "_")
    active = status in ACTIVE
    row = dict(state, status=status)
    if not active:
        row["assignee"], row["org"], row["at_risk"] = None, None, False
    row["overdue"] = bool(active and state["deadline"] and now > state["deadline"])
    return row
