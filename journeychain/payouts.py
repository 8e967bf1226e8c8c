"""A settlement's payouts per participant: what each step owner was credited over all the steps it
owned, which steps those were, and who was credited the forfeited penalties (the make-good: the
funder, or the customer where the playbook says `penalty_to: customer`) and the remainder (the
funder).

The engine's ValueConfirmed event credits one amount per step, in step order, each to the `by`
of its StepCompleted, the customer's step last; `group_payouts` folds them per owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ParticipantPayout:
    """One owner's credit from one settlement: the sum over its steps, and the steps."""

    owner: str
    amount: int
    steps: list[str] = field(default_factory=list)
    #: the customer's own step (credited to the customer's signer), not a participant's
    customer: bool = False


@dataclass
class Payouts:
    """A settlement, per participant."""

    participants: list[ParticipantPayout]
    forfeited: int
    #: who was credited the forfeited penalties (None when nothing was forfeited)
    forfeited_to: str | None
    #: "funder" or "customer": who the make-good recipient is to the journey
    make_good: str | None
    remainder: int
    #: the journey's funder, credited the remainder (None when not known)
    funder: str | None = None

    @property
    def total(self) -> int:
        return sum(p.amount for p in self.participants) + self.forfeited + self.remainder

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def group_payouts(
    owners: Sequence[str | None],
    amounts: Sequence[int],
    step_names: Sequence[str],
    forfeited: int = 0,
    forfeited_to: str | None = None,
    remainder: int = 0,
    funder: str | None = None,
) -> Payouts:
    """The per-step credits of one settlement (`owners[i]` credited `amounts[i]` for step i, the
    customer's step last) as one row per owner, in the order each first owned a step. The
    customer's row is kept only when it was credited something."""
    rows: dict[str, ParticipantPayout] = {}
    last = len(amounts) - 1
    for i, (owner, amount) in enumerate(zip(owners, amounts, strict=True)):
        if owner is None:
            continue
        name = step_names[i] if i < len(step_names) else f"step {i}"
        row = rows.setdefault(owner, ParticipantPayout(owner, 0, customer=i == last))
        row.amount += int(amount)
        row.steps.append(name)
        row.customer = row.customer and i == last
    participants = [r for r in rows.values() if not (r.customer and r.amount == 0)]
    customer = owners[last] if owners else None
    make_good = None
    if forfeited and forfeited_to:
        make_good = "customer" if customer and forfeited_to.lower() == customer.lower() else "funder"
    kept_to = forfeited_to if forfeited else None
    return Payouts(participants, int(forfeited), kept_to, make_good, int(remainder), funder)
