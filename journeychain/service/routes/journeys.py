"""Journeys: the writes a CRM makes (open, complete a step, attest, fund, flag, escalate), each
answered at once with its job, and the reads (a journey, journeys by filters)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from journeychain.accounts import checksum
from journeychain.encoding import journey_id
from journeychain.errors import ConfigError, ServiceError
from journeychain.service.auth import acting_account
from journeychain.service.deps import Caller, Running
from journeychain.service.models import JobOut, JourneyOut, Refusal
from journeychain.service.reader import JourneyFilters
from journeychain.service.service import Service
from journeychain.service.store import Integration

#: The refusals every write may answer, documented once.
WRITE_REFUSALS: dict[int | str, dict[str, Any]] = {
    code: {"model": Refusal, "description": what}
    for code, what in (
        (400, "No idempotency key"),
        (401, "No valid token or webhook signature"),
        (403, "An account the integration is not bound to"),
        (409, "An idempotency key used for another request"),
        (422, "Bad input"),
    )
}
router = APIRouter(tags=["journeys"])

MAX_POOL = 2**96 - 1
MAX_WAIT = 30.0

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Makes the write safe to retry: the same key returns the first outcome.",
    ),
]
Wait = Annotated[
    float,
    Query(ge=0, le=MAX_WAIT, description="Seconds to wait for the job to be final before answering."),
]


class Write(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    as_account: str | None = Field(
        default=None,
        alias="as",
        description="The account to act as (an address or the name it was bound with); "
        "default: the integration's only account.",
    )


class OpenBody(Write):
    reference: str = Field(description="The journey's external reference (a CRM id).")
    customer: str = Field(description="The customer's signing address (from `journey customer join`).")
    profile_hash: str = Field(description="The customer's salted profile hash, 0x and 64 hex digits.")
    funder: str = Field(description="The one participant who may fund the journey's pool.")
    playbook: int = Field(default=1, ge=1, le=2**16 - 1)
    assignee: str | None = Field(
        default=None, description="Who owns the first step (default: the opener's organisation)."
    )


class CompleteBody(Write):
    fields: dict[str, str] = Field(default_factory=dict, description="The step's evidence, name -> value.")
    assign: str | None = Field(default=None, description="The participant who owns the next step.")
    org: str | None = Field(
        default=None, description="The organisation (name or number) that owns the next step."
    )


class AttestBody(Write):
    schema_name: str = Field(alias="schema", description="What is attested, e.g. identity_verified.")
    step: str | None = Field(default=None, description="For a per-step schema: the step.")
    expires_in: int | None = Field(
        default=None, gt=0, description="Seconds it stays valid (default: never expires)."
    )


class FundBody(Write):
    amount: str = Field(description="Tokens to escrow, e.g. 1000 or 12.5.")


class FlagBody(Write):
    step: int | None = Field(
        default=None, ge=0, le=15, description="The step whose deadline passed (the natural key)."
    )


class EscalateBody(Write):
    to: str = Field(description="The new assignee's address.")
    step: int | None = Field(default=None, ge=0, le=15, description="The late step (the natural key).")


def _address(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        return checksum(value)
    except ConfigError as exc:
        raise ConfigError(f"{what}: {exc}") from None


def _reference(text: str) -> str:
    journey_id(text)  # a ConfigError sentence for a bad reference
    return text


def _tokens(text: str) -> int:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    wei = value.scaleb(18) if value.is_finite() else value
    if not value.is_finite() or value <= 0 or wei != wei.to_integral_value():
        raise ConfigError(f"amount {text!r} is not a positive number of tokens with at most 18 decimals")
    if wei > MAX_POOL:
        raise ConfigError(f"amount {text!r} is more than a journey's pool can hold ({MAX_POOL} units)")
    return int(wei)


@dataclass
class Submission:
    """What every write brings besides its body: the service, the integration that calls, the
    response (its headers and status), the Idempotency-Key header and how long to wait."""

    svc: Service
    who: Integration
    response: Response
    idempotency_key: str | None
    wait: float


def _submission(
    svc: Running, who: Caller, response: Response, idempotency_key: IdempotencyKey = None, wait: Wait = 0
) -> Submission:
    return Submission(svc, who, response, idempotency_key, wait)


Submit = Annotated[Submission, Depends(_submission)]


def _write(path: str, summary: str):
    """A write's route: answered 202 with its job (200 once final), its refusals documented."""
    return router.post(
        path, status_code=202, summary=summary, response_model=JobOut, responses=WRITE_REFUSALS
    )


async def _accepted(
    s: Submission, body: Write, action: str, journey: str, params: dict[str, Any], natural_key: str | None
) -> dict[str, Any]:
    svc, who, response, header_key, wait = s.svc, s.who, s.response, s.idempotency_key, s.wait
    account = acting_account(who, body.as_account)
    if not header_key and not natural_key:
        raise ServiceError(
            f"a {action} needs an Idempotency-Key header, or the step it is for in 'step' (its natural key)"
        )
    job, new = svc.submit(who.name, account, action, journey, params, header_key, natural_key or "")
    response.headers["Location"] = f"/jobs/{job.id}"
    if not new:
        response.headers["Idempotent-Replayed"] = "true"
    waited = 0.0
    while wait and waited < wait and not job.final:
        await asyncio.sleep(0.1)
        waited += 0.1
        job = svc.store.job(job.id) or job
    response.status_code = 200 if job.final else 202
    return job.public()


@_write("/journeys", "Open a journey")
async def open_journey(body: OpenBody, submit: Submit) -> dict[str, Any]:
    """Opens a journey for a customer who joined on its own device (its signer and profile hash).
    Natural key: the reference."""
    ref = _reference(body.reference)
    profile = body.profile_hash.removeprefix("0x")
    if len(profile) != 64 or any(ch not in "0123456789abcdefABCDEF" for ch in profile):
        raise ConfigError(f"profile_hash {body.profile_hash!r} is not 0x and 64 hex digits")
    params = {
        "reference": ref,
        "customer": _address(body.customer, "customer"),
        "profile_hash": "0x" + profile.lower(),
        "funder": _address(body.funder, "funder"),
        "playbook": body.playbook,
        "assignee": _address(body.assignee, "assignee"),
    }
    return await _accepted(submit, body, "open", ref, params, f"open:{ref}")


@_write("/journeys/{journey}/steps/{step}/complete", "Complete a step")
async def complete_step(journey: str, step: str, body: CompleteBody, submit: Submit) -> dict[str, Any]:
    """Completes STEP (its number or name) of the journey with its fields, naming the next step's
    owner. Refused (in the job) unless STEP is the journey's current step. Natural key: the
    journey and the step."""
    ref = _reference(journey)
    params = {
        "journey": ref,
        "step": int(step) if step.isdigit() else step,
        "fields": body.fields,
        "assign": _address(body.assign, "assign"),
        "org": int(body.org) if body.org and body.org.isdigit() else body.org,
    }
    natural = f"complete:{ref}:{step}"
    return await _accepted(submit, body, "complete", ref, params, natural)


@_write("/journeys/{journey}/attestations", "Attest")
async def attest(journey: str, body: AttestBody, submit: Submit) -> dict[str, Any]:
    """A verifier attests SCHEMA about the journey's customer, the journey or one step. Natural key:
    the journey, the schema and the step."""
    ref = _reference(journey)
    params = {"journey": ref, "schema": body.schema_name, "step": body.step, "expires_in": body.expires_in}
    natural = f"attest:{ref}:{body.schema_name}:{body.step or ''}"
    return await _accepted(submit, body, "attest", ref, params, natural)


@_write("/journeys/{journey}/fund", "Fund the pool")
async def fund(journey: str, body: FundBody, submit: Submit) -> dict[str, Any]:
    """The journey's funder escrows tokens in its pool. Natural key: the journey (a second funding
    of the same journey needs its own Idempotency-Key)."""
    ref = _reference(journey)
    params = {"journey": ref, "amount": str(_tokens(body.amount))}
    return await _accepted(submit, body, "fund", ref, params, f"fund:{ref}")


@_write("/journeys/{journey}/flag", "Flag a breach")
async def flag(journey: str, body: FlagBody, submit: Submit) -> dict[str, Any]:
    """Flags the current step's passed deadline. Natural key: the journey and 'step'."""
    ref = _reference(journey)
    natural = f"flag:{ref}:{body.step}" if body.step is not None else None
    params = {"journey": ref, "step": body.step}
    return await _accepted(submit, body, "flag", ref, params, natural)


@_write("/journeys/{journey}/escalate", "Escalate a late step")
async def escalate(journey: str, body: EscalateBody, submit: Submit) -> dict[str, Any]:
    """Reassigns a late step to another holder of its role. Natural key: the journey, 'step' and
    the new assignee."""
    ref = _reference(journey)
    to = _address(body.to, "to")
    natural = f"escalate:{ref}:{body.step}:{to}" if body.step is not None else None
    params = {"journey": ref, "to": to, "step": body.step}
    return await _accepted(submit, body, "escalate", ref, params, natural)


@router.get("/journeys/{journey}", summary="Read a journey", response_model=JourneyOut)
def read_journey(journey: str, svc: Running, who: Caller) -> dict[str, Any]:
    """Where the journey stands: its step, owner, deadline, breaches, pool, whether overdue or at risk."""
    return svc.reader.journey(_reference(journey))


@router.get("/journeys", summary="List journeys", response_model=list[JourneyOut])
def list_journeys(
    svc: Running,
    who: Caller,
    status: Annotated[
        str | None, Query(description="open, disputed, value_delivered, expired, cancelled")
    ] = None,
    playbook: Annotated[int | None, Query(ge=1, le=2**16 - 1)] = None,
    overdue: bool | None = None,
    at_risk: bool | None = None,
    organisation: Annotated[
        str | None, Query(description="Owner of the current step: a name or number.")
    ] = None,
    assignee: Annotated[str | None, Query(description="The current step's assignee, an address.")] = None,
) -> list[dict[str, Any]]:
    """The journeys whose state matches every filter given, oldest first."""
    filters = JourneyFilters(status, playbook, overdue, at_risk, organisation, _address(assignee, "assignee"))
    return svc.reader.journeys(filters)
