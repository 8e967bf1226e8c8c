"""What the service answers, as the OpenAPI document describes it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class JobOut(BaseModel):
    """A write, recorded before anything was sent, and what became of it."""

    id: str
    state: str = Field(description="queued, sent, mined, refused or failed")
    action: str = Field(description="open, complete, attest, fund, flag or escalate")
    journey: str
    account: str = Field(description="The account it acts as.")
    integration: str
    idempotency_key: str = Field(description="The Idempotency-Key header, or the natural key.")
    tx_hashes: list[str] = Field(description="Every transaction signed for it, recorded before broadcast.")
    error: str | None = Field(description="Refused or failed: the sentence.")
    rule: str | None = Field(description="Refused: the rule (the contract's custom error) or the check.")
    result: dict[str, Any] | None = Field(description="Mined: tx, block, gas_used and the decoded events.")
    attempts: int
    created_at: int
    updated_at: int


class JourneyOut(BaseModel):
    """Where a journey stands, by the chain's clock."""

    journey_id: str
    reference: str | None
    playbook_id: int
    step: int
    step_name: str | None
    status: str = Field(description="open, disputed, value_delivered, expired or cancelled")
    assignee: str | None = Field(description="The current step's participant owner, if any.")
    org: int | None = Field(description="The current step's organisation owner, if any.")
    deadline: int = Field(description="The current step's deadline (unix time; 0: none).")
    overdue: bool
    at_risk: bool
    warn_at: int | None
    breached_steps: list[int]
    flagged: bool
    pool: int = Field(description="Tokens escrowed, in units of 10^-18.")
    funder: str | None
    customer: str = Field(description="The customer commitment (no personal data).")
    head: str
    opened_block: int | None = None


class Refusal(BaseModel):
    """Every refusal: one sentence."""

    error: str
    kind: str
