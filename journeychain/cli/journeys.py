"""The journey commands: open, step, attest, fund, breach, escalate, expire, cancel, claim,
status and list."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from journeychain.amounts import tokens
from journeychain.cli.session import (
    MAX_POOL,
    PLAYBOOK_MAX,
    _amount,
    _fields,
    _profile,
    _receipt_note,
    _short,
    session,
)
from journeychain.encoding import journey_id, new_salt, profile_hash
from journeychain.errors import ConfigError
from journeychain.playbook import parse_duration
from journeychain.reverts import when
from journeychain.timeline import duration, iso, label, timeline
from journeychain.vault import Vault

# --- journeys ----------------------------------------------------------------------------


def open_cmd(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(help="The journey's external reference (a CRM id, say).")],
    customer: Annotated[str, typer.Option(help="The customer's signing account: alias, address or dev:N.")],
    profile: Annotated[
        str | None, typer.Option(help="The customer's profile (personal data: only a salted hash is kept).")
    ] = None,
    profile_hash_hex: Annotated[
        str | None, typer.Option("--profile-hash", help="The customer's profile hash, made elsewhere.")
    ] = None,
    funder: Annotated[
        str, typer.Option(help="The journey's funder, who alone may fund its pool: alias, address or dev:N.")
    ] = "",
    playbook: Annotated[int, typer.Option(help="The playbook to run.", min=1, max=PLAYBOOK_MAX)] = 1,
    assign: Annotated[
        str | None, typer.Option(help="Who owns the first step (default: your organisation).")
    ] = None,
) -> None:
    """Open a journey for a customer: the chain sees only a commitment to the customer. --funder
    names the one participant who may fund it."""
    s = session(ctx)
    if profile and profile_hash_hex:
        raise ConfigError("give --profile or --profile-hash, not both")
    profile_bytes = (
        _profile(profile_hash_hex) if profile_hash_hex else profile_hash(profile or "", new_salt())
    )
    if not funder:
        raise ConfigError("name the journey's funder: --funder ACCOUNT")
    signer = s.address(customer)
    assignee = s.address(assign) if assign else None
    opened = s.client().open_journey(
        reference, signer, profile_bytes, playbook, assignee, funder=s.address(funder)
    )
    s.book.put(
        journey_id(reference),
        {"reference": reference, "customer": signer, "profile": opened.profile, "playbook": str(playbook)},
    )
    deadline = f", first deadline {when(opened.deadline)}" if opened.deadline else ""
    s.emit(
        opened.as_dict(),
        f"journey {reference} opened ({opened.journey_id[:12]}…, playbook {playbook}{deadline}) "
        f"{_receipt_note(opened.receipt)}",
    )


step_app = typer.Typer(help="Steps of a journey.", no_args_is_help=True)


@step_app.command("complete")
def step_complete(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey: its reference or 0x id.")],
    field_args: Annotated[
        list[str] | None, typer.Option("--field", "-f", help="name=value evidence; repeat for each field.")
    ] = None,
    assign: Annotated[str | None, typer.Option(help="The participant who owns the next step.")] = None,
    org: Annotated[
        str | None,
        typer.Option(
            help="The organisation that owns the next step (name or number); default: yours, "
            "when you hold the next step's role."
        ),
    ] = None,
) -> None:
    """Complete the journey's current step with its evidence, and name who owns the next step
    (--assign a participant, or --org an organisation).

    Each --field value is committed with a fresh salt: the chain sees the commitment only.
    The values and salts go to the evidence vault ($JOURNEY_HOME/vault.sqlite), from which
    `journey prove` discloses one field and `journey forget` erases them; they are not
    printed.
    """
    s = session(ctx)
    fields = _fields(field_args or [])
    assignee = s.address(assign) if assign else None
    with Vault() as vault:
        result = s.client().complete_step(journey, fields, assignee, vault=vault, org=org)
    data = result.as_dict()
    data["fields"] = [{"name": f.name, "commitment": f.commitment} for f in result.fields]
    late = " [red](late: breach recorded)[/red]" if result.late else ""
    nxt = f"; next deadline {when(result.next_deadline)}" if result.next_deadline else ""
    s.emit(
        data,
        f"journey {journey}: step {result.step} ({result.step_name}) completed{late}{nxt} "
        f"{_receipt_note(result.receipt)}",
    )


def attest_cmd(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey whose customer (or itself) is attested.")],
    schema: Annotated[
        str, typer.Argument(help="What is attested, e.g. identity_verified or value_delivered.")
    ],
    expires_in: Annotated[
        str | None, typer.Option(help="Valid for this long (e.g. 30d); default: never expires.")
    ] = None,
    step: Annotated[
        str | None, typer.Option(help="For a per-step schema: the step (default: the current one).")
    ] = None,
) -> None:
    """Attest SCHEMA about a journey (as a verifier holding the schema's role): about its
    customer, the journey itself or one step, as the schema says (value_delivered: the journey)."""
    s = session(ctx)
    client = s.client()
    lifetime = parse_duration(expires_in, "--expires-in") if expires_in is not None else 0
    if expires_in is not None and lifetime == 0:
        raise ConfigError(
            f"--expires-in: {expires_in!r} is no time at all (omit it for an attestation that never expires)"
        )
    expiry = s.chain.now() + lifetime if lifetime else 0
    if schema == "value_delivered":
        uid, receipt = client.attest_value_delivered(journey, expiry)
    else:
        uid, receipt = client.attest_about(journey, schema, step, expiry)
    s.emit(
        {"uid": uid, "schema": schema, "expiry": expiry} | receipt.as_dict(),
        f"attested {schema} for journey {journey}: {uid} {_receipt_note(receipt)}",
    )


def fund_cmd(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    amount: Annotated[str, typer.Argument(help="Tokens to escrow, e.g. 1000 or 12.5.")],
    permit: Annotated[
        bool, typer.Option("--permit", help="Use an EIP-2612 permit instead of approve.")
    ] = False,
) -> None:
    """Escrow AMOUNT incentive tokens in the journey's pool (as FUNDER)."""
    s = session(ctx)
    value = _amount(amount, MAX_POOL, "a journey's pool can hold")
    receipt = s.client().fund(journey, value, permit=permit)
    pool = receipt.events["PoolFunded"][0]["pool"]
    s.emit(
        {"journey": journey, "amount": value, "pool": pool} | receipt.as_dict(),
        f"journey {journey}: pool funded with {tokens(value)}, now {tokens(pool)} {_receipt_note(receipt)}",
    )


breach_app = typer.Typer(help="SLA breaches.", no_args_is_help=True)


@breach_app.command("flag")
def breach_flag(ctx: typer.Context, journey: Annotated[str, typer.Argument(help="The journey.")]) -> None:
    """Flag the current step's passed deadline (anyone may): the breach is recorded for good."""
    s = session(ctx)
    receipt = s.client().flag_breach(journey)
    event = receipt.events["BreachRecorded"][0]
    against = event["assignee"] if int(event["assignee"], 16) else f"organisation {event['org']}"
    s.emit(
        {"journey": journey, "step": event["step"], "assignee": event["assignee"]} | receipt.as_dict(),
        f"journey {journey}: breach of step {event['step']} recorded against {against} "
        + _receipt_note(receipt),
    )


def escalate_cmd(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    assign: Annotated[str, typer.Option(help="The new assignee: address, alias or dev:N.")],
) -> None:
    """Reassign a late step to another holder of its role, with a new deadline (as ADMIN, or as
    whoever completed the step before it). The breach stays on the step."""
    s = session(ctx)
    receipt = s.client().escalate(journey, s.address(assign))
    event = receipt.events["Escalated"][0]
    s.emit(
        {"journey": journey, "step": event["step"], "to": event["to"], "deadline": event["deadline"]}
        | receipt.as_dict(),
        f"journey {journey}: step {event['step']} escalated to {event['to']}, deadline "
        f"{when(event['deadline']) if event['deadline'] else 'none'} {_receipt_note(receipt)}",
    )


def expire_cmd(ctx: typer.Context, journey: Annotated[str, typer.Argument(help="The journey.")]) -> None:
    """Expire a journey whose customer deadline passed unconfirmed: the pool returns to the funder."""
    s = session(ctx)
    receipt = s.client().expire(journey)
    s.emit({"journey": journey} | receipt.as_dict(), f"journey {journey} expired {_receipt_note(receipt)}")


def cancel_cmd(ctx: typer.Context, journey: Annotated[str, typer.Argument(help="The journey.")]) -> None:
    """Cancel a journey before it is booked (as ADMIN): the pool returns to the funder."""
    s = session(ctx)
    receipt = s.client().cancel(journey)
    s.emit({"journey": journey} | receipt.as_dict(), f"journey {journey} cancelled {_receipt_note(receipt)}")


def claim_cmd(ctx: typer.Context) -> None:
    """Claim all of --account's credit, from any number of journeys, in one transfer."""
    s = session(ctx)
    client = s.client()
    amount, receipt = client.claim()
    s.emit(
        {"account": client.address, "amount": amount} | receipt.as_dict(),
        f"{client.address} claimed {tokens(amount)} {_receipt_note(receipt)}",
    )


def list_cmd(
    ctx: typer.Context,
    playbook: Annotated[
        int | None, typer.Option(help="Only this playbook's.", min=1, max=PLAYBOOK_MAX)
    ] = None,
) -> None:
    """List the journeys of this deployment with where each stands."""
    s = session(ctx)
    c = s.reader
    rows = []
    for entry in c.journeys(playbook):
        state = c.journey(entry.journey_id)
        rows.append(state.as_dict() | {"opened_block": entry.block})
    table = Table(
        "journey", "pb", "step", "status", "assignee", "deadline", "pool", "breached", box=box.SIMPLE_HEAD
    )
    table.columns[0].no_wrap = table.columns[2].no_wrap = table.columns[3].no_wrap = True
    for r in rows:
        table.add_row(
            r["reference"] or r["journey_id"][:10] + "…",
            str(r["playbook_id"]),
            f"{r['step']} {r['step_name'] or '(done)'}",
            r["status"],
            _short(r["assignee"]),
            when(r["deadline"])[:16] if r["deadline"] else "-",
            tokens(r["pool"]),
            ", ".join(map(str, r["breached_steps"])) or "-",
        )
    s.emit(rows, table if rows else "no journeys yet")


# --- journey status ----------------------------------------------------------------------


def status_cmd(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey: its reference or 0x id.")],
) -> None:
    """Show where a journey stands and its timeline, rebuilt from the chain's events."""
    s = session(ctx)
    reader = s.reader
    state = reader.journey(journey)  # UnknownJourney's sentence if there is none
    jid = reader.journey_id(journey)
    tl = timeline(s.chain.w3, reader.engine, jid, reader.voice, from_block=s.deployment.block)
    data = {"state": state.as_dict(), "timeline": tl.to_dict()}
    if s.json:
        s.emit(data, None)
        return
    console = Console()
    name = state.reference or state.journey_id
    step = f"step {state.step} ({state.step_name})" if state.step_name else f"step {state.step}"
    deadline = f", deadline {iso(state.deadline)}" if state.deadline else ""
    assignee = f", assigned to {state.assignee}" if state.assignee else ""
    console.print(f"[bold]{name}[/bold]: {state.status} at {step}{assignee}{deadline}", soft_wrap=True)
    table = Table("when", "after", "what", title=f"timeline of {name}", title_justify="left")
    for entry in tl.entries:
        style = "red" if entry.late else None
        table.add_row(
            iso(entry.time), "+" + duration(entry.time - tl.opened_at), entry.describe(), style=style
        )
    console.print(table)
    if tl.breaches:
        who = ", ".join(f"step {b.step} ({b.step_name}) against {label(b.assignee)}" for b in tl.breaches)
        console.print(f"breaches: {who}", soft_wrap=True)
