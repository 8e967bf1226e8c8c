"""The journey commands: open, step, attest, fund, breach, escalate, expire, cancel, claim,
status and list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from journeychain.amounts import tokens
from journeychain.cli import plain_table
from journeychain.cli.indexed import NO_INDEX_HELP, open_index
from journeychain.cli.session import (
    MAX_POOL,
    PLAYBOOK_MAX,
    Session,
    _amount,
    _fields,
    _profile,
    _receipt_note,
    session,
)
from journeychain.cli.show import due, named, owner, payouts_view
from journeychain.encoding import journey_id, new_salt, profile_hash
from journeychain.errors import ConfigError
from journeychain.names import Names, org_key
from journeychain.payouts import Payouts, group_payouts
from journeychain.playbook import parse_duration
from journeychain.reverts import when
from journeychain.sdk.types import JourneyState
from journeychain.timeline import STATUSES, Timeline, duration, iso, label, org_label, timeline
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
    pool = f", pool {tokens(opened.pool)} from the funder's standing budget" if opened.pool else ""
    s.emit(
        opened.as_dict(),
        f"journey {reference} opened ({opened.journey_id[:12]}…, playbook {playbook}{deadline}{pool}) "
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
    step: Annotated[
        int | None,
        typer.Option(help="Complete only if this is the journey's current step (a number)."),
    ] = None,
) -> None:
    """Complete the journey's current step with its evidence, and name who owns the next step
    (--assign a participant, or --org an organisation).

    Safe to run again after a lost reply: when your earlier run's transaction was mined, the
    command says "already completed by you in tx 0x..." (exit 0) and sends nothing, instead of
    completing the next step.

    Each --field value is committed with a fresh salt: the chain sees the commitment only.
    The values and salts go to the evidence vault ($JOURNEY_HOME/vault.sqlite), from which
    `journey prove` discloses one field and `journey forget` erases them; they are not
    printed.
    """
    s = session(ctx)
    fields = _fields(field_args or [])
    assignee = s.address(assign) if assign else None
    with Vault() as vault:
        result = s.client().complete_step(journey, fields, assignee, vault=vault, org=org, step=step)
    data = result.as_dict()
    if result.receipt.already:
        data["already"] = True
        s.emit(
            data,
            f"journey {journey}: step {result.step} ({result.step_name}) was already completed by you "
            f"in tx {result.receipt.tx_hash} {_receipt_note(result.receipt)}",
        )
        return
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
    revoke: Annotated[
        bool,
        typer.Option(
            "--revoke", help="Revoke your own attestation of SCHEMA about it instead (named the same way)."
        ),
    ] = False,
) -> None:
    """Attest SCHEMA about a journey (as a verifier holding the schema's role): about its
    customer, the journey itself or one step, as the schema says (value_delivered: the journey).

    With --revoke, the verifier revokes its own newest attestation of SCHEMA about the same
    subject (also once it lost the role): a step that requires it is refused from then on."""
    s = session(ctx)
    client = s.client()
    if revoke:
        if expires_in is not None:
            raise ConfigError("--expires-in is for a new attestation: a revocation takes none")
        uid, receipt = client.revoke_about(journey, schema, step)
        s.emit(
            {"uid": uid, "schema": schema, "revoked": True} | receipt.as_dict(),
            f"revoked {client.address}'s {schema} attestation for journey {journey}: {uid} "
            + _receipt_note(receipt),
        )
        return
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


budget_app = typer.Typer(
    help="A funder's standing budget: one deposit funds each journey of a playbook at its opening.",
    no_args_is_help=True,
)


@budget_app.command("set", context_settings={"ignore_unknown_options": True})
def budget_set(
    ctx: typer.Context,
    per_journey: Annotated[
        str, typer.Argument(help="The pool each journey draws at its opening, e.g. 1000.")
    ],
    deposit: Annotated[
        str | None, typer.Option(help="Tokens added to the budget now (approved and moved to the engine).")
    ] = None,
    playbook: Annotated[
        int, typer.Option(help="The playbook whose journeys draw on it.", min=1, max=PLAYBOOK_MAX)
    ] = 1,
    opener_org: Annotated[
        str,
        typer.Option(help="The one organisation whose openings may draw on it (name or number)."),
    ] = "",
) -> None:
    """Set your standing budget for a playbook (as FUNDER): every journey --opener-org opens
    afterwards naming you as its funder draws PER_JOURNEY from it at its opening, while it holds
    that much (0 stops the draws and keeps the balance)."""
    s = session(ctx)
    per = 0 if per_journey.strip() == "0" else _amount(per_journey, MAX_POOL, "a journey's pool can hold")
    added = _amount(deposit, MAX_POOL, "a budget can hold") if deposit is not None else 0
    if not opener_org:
        raise ConfigError("name the organisation whose openings may draw on the budget: --opener-org ORG")
    client = s.client()
    org = client.organisation_id(opener_org)
    receipt = client.set_budget(playbook, per, org, added)
    event = receipt.events["BudgetChanged"][0]
    who = f"organisation {org}'s openings"
    s.emit(
        {
            "playbook": playbook,
            "per_journey": per,
            "opener_org": org,
            "deposit": added,
            "balance": event["balance"],
        }
        | receipt.as_dict(),
        f"budget for playbook {playbook}: {tokens(per)} a journey, drawn by {who}; holds "
        f"{tokens(event['balance'])} {_receipt_note(receipt)}",
    )


@budget_app.command("withdraw", context_settings={"ignore_unknown_options": True})
def budget_withdraw(
    ctx: typer.Context,
    amount: Annotated[str, typer.Argument(help="Tokens to take back, e.g. 500.")],
    playbook: Annotated[int, typer.Option(help="The playbook.", min=1, max=PLAYBOOK_MAX)] = 1,
) -> None:
    """Take AMOUNT back from your standing budget for a playbook (always open to its funder)."""
    s = session(ctx)
    value = _amount(amount, MAX_POOL, "a budget can hold")
    receipt = s.client().withdraw_budget(playbook, value)
    balance = receipt.events["BudgetChanged"][0]["balance"]
    s.emit(
        {"playbook": playbook, "amount": value, "balance": balance} | receipt.as_dict(),
        f"budget for playbook {playbook}: {tokens(value)} taken back, holds {tokens(balance)} "
        f"{_receipt_note(receipt)}",
    )


@budget_app.command("show")
def budget_show(
    ctx: typer.Context,
    funder: Annotated[str | None, typer.Option(help="Whose budget (default: yours).")] = None,
    playbook: Annotated[int, typer.Option(help="The playbook.", min=1, max=PLAYBOOK_MAX)] = 1,
) -> None:
    """Show a funder's standing budget for a playbook."""
    s = session(ctx)
    client = s.client()
    budget = client.budget_of(s.address(funder) if funder else client.address, playbook)
    who = f"organisation {budget.opener_org}'s openings"
    terms = f"{tokens(budget.per_journey)} a journey, drawn by {who}" if budget.per_journey else "no draws"
    s.emit(
        budget.as_dict(),
        f"budget of {budget.funder} for playbook {playbook}: {terms}; holds {tokens(budget.balance)}",
    )


@step_app.command("pause")
def step_pause(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    reason: Annotated[
        str,
        typer.Option(
            help="Why it waits: awaiting_customer, awaiting_information, customer_unavailable, scheduled."
        ),
    ] = "awaiting_customer",
) -> None:
    """Pause the current step's clock while you, its owner, wait on the customer.

    The time its SLA has left is kept; `journey step resume`, or the customer's signed reply
    (`journey customer reply`), starts it again. A step may be paused 3 times, for 30 days
    each at most; a step past its deadline or flagged cannot be paused.
    """
    s = session(ctx)
    receipt = s.client().pause_step(journey, reason)
    event = receipt.events["StepPaused"][0]
    s.emit(
        {"journey": journey, "step": event["step"], "left": event["left"], "held_until": event["deadline"]}
        | receipt.as_dict(),
        f"journey {journey}: step {event['step']} paused with {duration(event['left'])} of its SLA left "
        f"(held until {iso(event['deadline'])} at the latest) {_receipt_note(receipt)}",
    )


@step_app.command("resume")
def step_resume(ctx: typer.Context, journey: Annotated[str, typer.Argument(help="The journey.")]) -> None:
    """Resume the current step's paused clock: the time it had left runs from now."""
    s = session(ctx)
    receipt = s.client().resume_step(journey)
    event = receipt.events["StepResumed"][0]
    s.emit(
        {"journey": journey, "step": event["step"], "deadline": event["deadline"]} | receipt.as_dict(),
        f"journey {journey}: step {event['step']} resumed, deadline {iso(event['deadline'])} "
        + _receipt_note(receipt),
    )


breach_app = typer.Typer(help="SLA breaches.", no_args_is_help=True)


@breach_app.command("flag")
def breach_flag(ctx: typer.Context, journey: Annotated[str, typer.Argument(help="The journey.")]) -> None:
    """Flag the current step's passed deadline (anyone may): the breach is recorded for good."""
    s = session(ctx)
    receipt = s.client().flag_breach(journey)
    event = receipt.events["BreachRecorded"][0]
    names = s.names
    against = (
        label(event["assignee"], names) if int(event["assignee"], 16) else org_label(event["org"], names)
    )
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
        f"journey {journey}: step {event['step']} escalated to {label(event['to'], s.names)}, deadline "
        f"{when(event['deadline']) if event['deadline'] else 'none'} {_receipt_note(receipt)}",
    )


def expire_cmd(ctx: typer.Context, journey: Annotated[str, typer.Argument(help="The journey.")]) -> None:
    """Expire a journey whose customer deadline passed unconfirmed: the pool returns to the funder."""
    s = session(ctx)
    receipt = s.client().expire(journey)
    s.emit({"journey": journey} | receipt.as_dict(), f"journey {journey} expired {_receipt_note(receipt)}")


def cancel_cmd(ctx: typer.Context, journey: Annotated[str, typer.Argument(help="The journey.")]) -> None:
    """Cancel a journey before it is booked (as ADMIN), or, as its funder, one still at its first
    step once that step is late (at any time where it has no deadline): the pool returns to the
    funder."""
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


#: The list's columns and their widths, which keep the table within 80 columns (content beyond
#: them ends in "…").
LIST_COLUMNS = (("journey", 10), ("step", 14), ("status", 15), ("owner", 12), ("due", 11), ("breaches", 8))
#: Lists longer than this are printed line by line (journeychain.cli.plain_table), as rich would.
LONG_TABLE = 200
#: The journeys' statuses, as `journey list --status` takes them; those whose step has an owner.
LIST_STATUSES = STATUSES[1:]
ACTIVE = ("open", "disputed")


def list_cmd(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(help="Only journeys in this status: " + ", ".join(LIST_STATUSES) + "."),
    ] = None,
    overdue: Annotated[
        bool,
        typer.Option(
            "--overdue",
            help="Only open journeys whose current deadline has passed by the chain's clock, flagged or not.",
        ),
    ] = False,
    assignee: Annotated[
        str | None,
        typer.Option(
            help="Only journeys whose current step this owner holds: an address, account or name, "
            "or an organisation's name."
        ),
    ] = None,
    playbook: Annotated[
        str | None,
        typer.Option(help="Only this playbook's journeys: its number, or its name (every version)."),
    ] = None,
    no_index: Annotated[bool, typer.Option("--no-index", help=NO_INDEX_HELP)] = False,
) -> None:
    """List the journeys of this deployment with where each stands: the current step, its owner,
    its deadline against the chain's clock (overdue once it has passed, whether or not anyone
    flagged it) and the steps breached so far."""
    s = session(ctx)
    wanted = _status(status) if status is not None else None
    playbooks = _playbooks(s, playbook) if playbook is not None else [None]
    names = s.names
    owned_by = _owner_filter(s, assignee, names) if assignee is not None else None
    now = s.chain.now()
    found: list[tuple[dict, tuple[str, ...]]] = []
    for opened_block, state in _states(s, playbooks, now, no_index):
        shown_status = state.status.replace(" ", "_")
        due_text, late = due(state.deadline, now, shown_status)
        # a closed journey's step has no owner any more
        assignee, org = (state.assignee, state.org) if shown_status in ACTIVE else (None, None)
        if wanted is not None and shown_status != wanted:
            continue
        if overdue and not late:
            continue
        if owned_by is not None and not owned_by(assignee, org):
            continue
        owner_name = named(assignee, names) if assignee else names.get(org_key(org)) if org else None
        row = state.as_dict() | {"opened_block": opened_block, "overdue": late, "owner_name": owner_name}
        found.append(
            (
                row,
                (
                    state.reference or state.journey_id[:10] + "…",
                    state.step_name or "(done)",
                    shown_status,
                    owner(assignee, org, names),
                    due_text,
                    ", ".join(map(str, state.breached_steps)) or "-",
                ),
            )
        )
    found.sort(key=lambda item: item[0]["opened_block"])  # several playbooks: in the order opened
    rows = [row for row, _ in found]
    styles = ["red" if row["overdue"] else None for row, _ in found]
    if (
        not s.json
        and len(found) > LONG_TABLE
        and plain_table.render(Console(), LIST_COLUMNS, [cells for _, cells in found], styles)
    ):
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for header, width in LIST_COLUMNS:
        table.add_column(header, max_width=width, no_wrap=True, overflow="ellipsis")
    for row, cells in found:
        table.add_row(*cells, style="red" if row["overdue"] else None)
    filtered = wanted or overdue or owned_by or playbook
    s.emit(rows, table if rows else ("no journey matches" if filtered else "no journeys yet"))


def _states(
    s: Session, playbooks: list[int] | list[None], now: int, no_index: bool
) -> Iterator[tuple[int, JourneyState]]:
    """Each journey of the playbooks (None: all) with the block it was opened in: from the
    index when there is one, else from the chain's events and views."""
    c = s.reader
    index = open_index(s, no_index)
    if index is None:
        for pid in playbooks:
            for entry in c.journeys(pid):
                yield entry.block, c.journey(entry.journey_id)
        return
    with index:
        for pid in playbooks:
            yield from index.states(pid, now, lambda jid: c.reference(bytes.fromhex(jid[2:])))


def _status(text: str) -> str:
    wanted = text.strip().lower().replace(" ", "_").replace("-", "_")
    if wanted not in LIST_STATUSES:
        raise ConfigError(f"--status {text!r} is not a journey status (one of {', '.join(LIST_STATUSES)})")
    return wanted


def _playbooks(s: Session, text: str) -> list[int]:
    """The playbooks `--playbook` names: one number, or every published version of a name."""
    if text.strip().isdigit():
        number = int(text)
        if not 1 <= number <= PLAYBOOK_MAX:
            raise ConfigError(f"--playbook {text}: playbooks are numbered from 1 to {PLAYBOOK_MAX}")
        return [number]
    c = s.reader
    found = [pid for pid in range(1, c.playbook_count() + 1) if c.playbook(pid).playbook.name == text.strip()]
    if not found:
        raise ConfigError(f"no playbook named {text!r} is published (see `journey playbook show NUMBER`)")
    return found


def _owner_filter(s: Session, who: str, names: Names):
    """Whether a journey's current owner (assignee, org) is `who`: an organisation by its short
    name, else a participant by address, account or address-book name."""
    org = names.org_of(who)
    if org is not None:
        return lambda assignee, owner_org: assignee is None and owner_org == org
    address = s.address(who)
    return lambda assignee, owner_org: assignee == address


# --- journey status ----------------------------------------------------------------------


def status_cmd(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey: its reference or 0x id.")],
    no_index: Annotated[bool, typer.Option("--no-index", help=NO_INDEX_HELP)] = False,
) -> None:
    """Show where a journey stands, its timeline rebuilt from the chain's events (who by name
    where the address book has one) and, once value is confirmed, its payouts per participant."""
    s = session(ctx)
    reader = s.reader
    jid = reader.journey_id(journey)
    found = _indexed(s, jid, no_index)
    if found is None:
        state = reader.journey(journey)  # UnknownJourney's sentence if there is none
        tl = timeline(s.chain.w3, reader.engine, jid, reader.voice, from_block=s.deployment.block)
    else:
        state, tl = found
    names = s.names
    paid = _payouts(tl)
    data = {
        "state": state.as_dict(),
        "timeline": tl.to_dict(),
        "payouts": paid.as_dict() if paid else None,
        "names": _names_in(tl, state.assignee, names),
    }
    if s.json:
        s.emit(data, None)
        return
    console = Console()
    name = state.reference or state.journey_id
    step = f"step {state.step} ({state.step_name})" if state.step_name else f"step {state.step}"
    due_text, late = due(state.deadline, s.chain.now(), state.status)
    deadline = f", deadline {iso(state.deadline)}" if state.deadline else ""
    if late:
        deadline += f" ([red]{due_text}[/red])"
    elif state.at_risk:
        deadline += f" [yellow](at risk of breaching since {iso(state.warn_at)})[/yellow]"
    held = owner(state.assignee, state.org, names)
    assignee = f", {'assigned to' if state.assignee else 'owned by'} {held}" if held != "-" else ""
    console.print(f"[bold]{name}[/bold]: {state.status} at {step}{assignee}{deadline}", soft_wrap=True)
    table = Table("when", "after", "what", title=f"timeline of {name}", title_justify="left")
    for entry in tl.entries:
        style = "red" if entry.late else None
        table.add_row(
            iso(entry.time), "+" + duration(entry.time - tl.opened_at), entry.describe(names), style=style
        )
    console.print(table)
    breaches = [e for e in tl.entries if e.kind == "breach"]
    if breaches:
        who = ", ".join(
            f"step {e.step} ({e.step_name}) against "
            + (label(e.who, names) if e.who else org_label(e.details.get("org"), names))
            for e in breaches
        )
        console.print(f"breaches: {who}", soft_wrap=True)
    if paid:
        console.print(payouts_view(paid, names, f"payouts of {name}"))


def _indexed(s: Session, jid: bytes, no_index: bool) -> tuple[JourneyState, Timeline] | None:
    """A journey's state and timeline from the index (None: no index, or it does not hold the
    journey, which the chain then answers)."""
    index = open_index(s, no_index)
    if index is None:
        return None
    with index:
        state = index.state(jid, s.chain.now(), s.reader.reference(jid))
        tl = index.timeline(jid)
    return None if state is None or tl is None else (state, tl)


def _payouts(tl: Timeline) -> Payouts | None:
    """The journey's settlement per participant, from its timeline (None before settlement)."""
    entry = next((e for e in tl.entries if e.kind == "payouts"), None)
    if entry is None:
        return None
    d = entry.details
    return group_payouts(
        d["owners"],
        d["amounts"],
        [st.name for st in tl.steps],
        d["forfeited"],
        d["forfeited_to"],
        d["remainder"],
        funder=tl.funder,
    )


def _names_in(tl: Timeline, assignee: str | None, names: Names) -> dict[str, str]:
    """The names the address book gives the addresses of a journey's state and timeline."""
    seen: list[str | None] = [assignee, tl.funder, tl.opened_by]
    for e in tl.entries:
        seen += [e.who, e.details.get("from"), e.details.get("forfeited_to"), e.details.get("owner")]
        seen += e.details.get("owners", [])
    return {a: names[a] for a in dict.fromkeys(seen) if a and a in names}
