"""`journey customer` (confirm, dispute, rate; the customer's secret, join, request, sign and
submit on its own device), `journey resolve` and `journey close-dispute`, and what the
settlement commands share (the payouts table, the customer's signer and profile hash)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import RenderableType

from journeychain.accounts import get_password, resolve_address
from journeychain.cli.session import Session, _customer, _profile, _receipt_note, session
from journeychain.cli.show import payouts_view
from journeychain.client import JourneyClient
from journeychain.customer import (
    CustomerRequest,
    CustomerSecret,
    describe,
    read_signed,
    sign_request,
    signed_document,
)
from journeychain.encoding import journey_id
from journeychain.errors import ConfigError
from journeychain.payouts import group_payouts
from journeychain.playbook import parse_duration
from journeychain.timeline import iso, label
from journeychain.tx import Receipt
from journeychain.vault import Vault

customer_app = typer.Typer(
    help="The customer's voice: signed by the customer, relayed by anyone (--account).", no_args_is_help=True
)

CustomerOpt = Annotated[
    str, typer.Option("--customer", help="The customer's signing account (keystore or dev:N).")
]
ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile-hash", help="The customer's profile hash (default: the local record)."),
]


@customer_app.command("confirm")
def customer_confirm(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    customer: CustomerOpt,
    profile_hex: ProfileOpt = None,
) -> None:
    """The customer confirms that value was delivered: every step owner is credited."""
    s = session(ctx)
    who = _customer(s, journey, customer, profile_hex)
    client = s.client()
    receipt = client.customer_confirm(journey, who)
    show_payouts(s, client, journey, receipt, "value confirmed")


def show_payouts(s: Session, client: JourneyClient, journey: str, receipt: Receipt, title: str) -> None:
    """Who the settlement in `receipt` credited what, per participant, as a table for people or
    JSON; every settlement (confirm, release, confirm-by-attestation) shows it."""
    data, table = _settled(s, client, journey, receipt, title)
    s.emit(data | receipt.as_dict(), table)


def _settled(
    s: Session, client: JourneyClient, journey: str, receipt: Receipt, title: str = "value confirmed"
) -> tuple[dict, RenderableType]:
    """What a settlement credited, per participant (the sum over its steps, and the steps), with
    who was credited the forfeited penalties: as data (the addresses) and as a table (the names)."""
    paid = receipt.events["ValueConfirmed"][0]
    credited = client.payouts(journey, receipt)
    state = client.journey(journey)
    steps = client.playbook(state.playbook_id).playbook.steps
    grouped = group_payouts(
        [owner for owner, _ in credited],
        [amount for _, amount in credited],
        [step.name for step in steps],
        paid["forfeited"],
        paid["forfeitedTo"],
        paid["remainder"],
        funder=state.funder,
    )
    data = {
        "journey": journey,
        "by": paid["by"],
        "owners": [owner for owner, _ in credited],
        "amounts": [amount for _, amount in credited],
        "forfeited": paid["forfeited"],
        "forfeited_to": grouped.forfeited_to,
        "remainder": paid["remainder"],
        "payouts": grouped.as_dict(),
    }
    return data, payouts_view(grouped, s.names, f"journey {journey}: {title}")


@customer_app.command("dispute")
def customer_dispute(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    step: Annotated[str, typer.Argument(help="The disputed step: number or name.")],
    customer: CustomerOpt,
    reason: Annotated[
        str, typer.Option(help="Why (kept in the evidence vault; only a salted commitment goes on chain).")
    ] = "",
    profile_hex: ProfileOpt = None,
) -> None:
    """The customer disputes a completed step: payouts are held until an arbiter resolves it.

    The reason is committed with a fresh salt: the chain sees the commitment only. The text
    and salt go to the evidence vault, from which `journey prove JOURNEY STEP dispute_reason`
    discloses it and `journey forget` erases it; they are not printed.
    """
    s = session(ctx)
    who = _customer(s, journey, customer, profile_hex)
    with Vault() as vault:
        result = s.client().customer_dispute(journey, who, step, reason, vault=vault)
    receipt = result.receipt
    event = receipt.events["Disputed"][0]
    s.emit(
        {"journey": journey, "step": event["step"], "reason": result.commitment} | receipt.as_dict(),
        f"journey {journey}: step {event['step']} disputed; payouts held {_receipt_note(receipt)}",
    )


@customer_app.command("reply")
def customer_reply(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    customer: CustomerOpt,
    message: Annotated[
        str,
        typer.Option(help="The reply (kept in the evidence vault; only a salted commitment goes on chain)."),
    ] = "",
    profile_hex: ProfileOpt = None,
) -> None:
    """The customer replies to a step paused while its owner waits on the customer: its clock
    runs again. The message is committed with a fresh salt, kept like a dispute's reason."""
    s = session(ctx)
    who = _customer(s, journey, customer, profile_hex)
    with Vault() as vault:
        result = s.client().customer_reply(journey, who, message, vault=vault)
    receipt = result.receipt
    event = receipt.events["StepResumed"][0]
    s.emit(
        {
            "journey": journey,
            "step": event["step"],
            "deadline": event["deadline"],
            "message": result.commitment,
        }
        | receipt.as_dict(),
        f"journey {journey}: the customer replied; step {event['step']} resumed, deadline "
        f"{iso(event['deadline'])} {_receipt_note(receipt)}",
    )


@customer_app.command("rate", context_settings={"ignore_unknown_options": True})
def customer_rate(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    step: Annotated[str, typer.Argument(help="The rated step: number or name.")],
    score: Annotated[int, typer.Argument(help="1 to 5.")],
    customer: CustomerOpt,
    comment: Annotated[
        str,
        typer.Option(help="A comment (kept in the evidence vault; only a salted commitment goes on chain)."),
    ] = "",
    profile_hex: ProfileOpt = None,
) -> None:
    """The customer rates a step's owner, 1 to 5, once value is confirmed.

    The comment is kept like a dispute's reason: its commitment on chain, its text and salt
    in the evidence vault (`journey prove JOURNEY STEP rating_comment`, `journey forget`).
    """
    s = session(ctx)
    if not 1 <= score <= 5:
        raise ConfigError(f"a rating is a score from 1 to 5, not {score}")
    who = _customer(s, journey, customer, profile_hex)
    client = s.client()
    with Vault() as vault:
        result = client.customer_rate(journey, who, step, score, comment, vault=vault)
    receipt = result.receipt
    event = receipt.events["Rated"][0]
    steps = client.playbook(client.journey(journey).playbook_id).playbook.steps
    name = steps[event["step"]].name if event["step"] < len(steps) else f"step {event['step']}"
    s.emit(
        {
            "journey": journey,
            "step": event["step"],
            "owner": event["owner"],
            "score": score,
            "comment": result.commitment,
        }
        | receipt.as_dict(),
        f"journey {journey}: step {event['step']} ({name}), owned by {label(event['owner'], s.names)}, "
        f"rated {score}/5 " + _receipt_note(receipt),
    )


# --- the customer's own device: a secret, requests and signatures ---------------------------

secret_app = typer.Typer(no_args_is_help=True, help="The customer's one secret (kept by the customer).")
customer_app.add_typer(secret_app, name="secret")


def _secret(path: Path) -> CustomerSecret:
    return CustomerSecret.load(path, get_password(f"password of the customer secret {path}"))


@secret_app.command("new")
def customer_secret_new(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to keep it (an encrypted keystore file).")],
) -> None:
    """Create the customer's secret, encrypted with a password ($JOURNEY_PASSWORD or asked for).

    Every journey's signing key and profile salt are derived from it: the chain cannot link
    two journeys of one customer, and the operator chooses neither half of the commitment."""
    s = session(ctx)
    CustomerSecret.create().save(file, get_password("password for the new customer secret", confirm=True))
    s.emit({"file": str(file)}, f"customer secret written to {file} (keep it, and its password, safe)")


@customer_app.command("join")
def customer_join(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey's reference, as the operator gives it.")],
    secret: Annotated[Path, typer.Option("--secret", help="The customer's secret file.")],
    profile: Annotated[str, typer.Option(help="The customer's profile (only its salted hash leaves).")],
) -> None:
    """On the customer's device: the signer and profile hash to give the operator, who opens
    the journey with `journey open REF --customer SIGNER --profile-hash HASH`."""
    s = session(ctx)
    joined = _secret(secret).join(journey, profile)
    s.emit(
        {"journey": journey, **joined},
        f"journey {journey}: --customer {joined['signer']} --profile-hash {joined['profile']}",
    )


def _request_customer(
    s: Session, journey: str, signer: str | None, profile_hex: str | None
) -> tuple[str, bytes]:
    """The signer and profile hash of the journey's customer: given, or the local record."""
    record = s.book.get(journey_id(journey)) or {}
    who = signer or record.get("customer")
    hashed = profile_hex or record.get("profile")
    if not who or not hashed:
        raise ConfigError(
            f"no local record of journey {journey}'s customer: pass --signer and --profile-hash"
        )
    return resolve_address(who), _profile(hashed)


@customer_app.command("request")
def customer_request(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help="confirm, dispute or rate.")],
    journey: Annotated[str, typer.Argument(help="The journey.")],
    step: Annotated[str | None, typer.Argument(help="The step disputed or rated: number or name.")] = None,
    score: Annotated[int | None, typer.Option(help="A rating's score, 1 to 5.")] = None,
    reason: Annotated[
        str, typer.Option(help="A dispute's reason (the vault keeps it; a commitment goes).")
    ] = "",
    comment: Annotated[str, typer.Option(help="A rating's comment (kept like a reason).")] = "",
    signer: Annotated[
        str | None, typer.Option(help="The customer's signer (default: the local record).")
    ] = None,
    profile_hex: ProfileOpt = None,
    valid: Annotated[str, typer.Option(help="How long the customer has to sign, e.g. 24h.")] = "24h",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the request here.")] = None,
) -> None:
    """Write what the customer signs on its own device: EIP-712 typed data (JSON, and a
    journeychain:sign link a page or a wallet opens). Nothing is sent. A step completed before
    the customer signs makes the request stale: make a new one."""
    s = session(ctx)
    who, hashed = _request_customer(s, journey, signer, profile_hex)
    with Vault() as vault:
        request = s.client().customer_request(
            journey,
            action,
            who,
            hashed,
            step,
            reason=reason,
            score=score,
            comment=comment,
            vault=vault,
            lifetime=parse_duration(valid, "--valid"),
        )
    text = request.to_json()
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
    s.emit(
        request.as_dict(),
        f"journey {journey}: {action} request for {who}"
        + (f" written to {out}" if out else "")
        + f"\n{request.url}",
    )


@customer_app.command("sign")
def customer_sign(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The request file the operator sent.")],
    secret: Annotated[Path, typer.Option("--secret", help="The customer's secret file.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the signed request here.")] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Sign without asking (after reading what it says).")
    ] = False,
) -> None:
    """On the customer's device: show what a request says, then sign it with this journey's
    key (derived from the secret). A request whose readable parts differ from what it signs,
    or for a signer that is not this customer's, is refused. In a terminal it asks first."""
    s = session(ctx)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the request {file}: {exc}") from None
    request = CustomerRequest.from_dict(data, str(file))
    for line in describe(request):
        print(line, file=sys.stderr)
    if not yes and sys.stdin.isatty() and not typer.confirm("sign this?", err=True):
        raise ConfigError("not signed")
    key = _secret(secret).key_for(bytes.fromhex(request.journey.removeprefix("0x")))
    signature = sign_request(request, key)
    document = signed_document(request, signature)
    if out is not None:
        out.write_text(document + "\n", encoding="utf-8")
    s.emit(
        {"signature": signature, "signer": key.address, "file": str(out) if out else None},
        f"signed by {key.address}" + (f"; hand {out} back to the operator" if out else f": {signature}"),
    )


@customer_app.command("submit")
def customer_submit(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    signed: Annotated[str, typer.Argument(help="The signed request file, or a 0x signature.")],
    request_file: Annotated[
        Path | None, typer.Option("--request", help="The request the 0x signature is over.")
    ] = None,
) -> None:
    """Relay a signature the customer made on its own device (its wallet, a page, or
    `journey customer sign`); the relaying account pays the gas."""
    s = session(ctx)
    if signed.startswith("0x"):
        if request_file is None:
            raise ConfigError("a bare signature needs the request it signs: --request FILE")
        try:
            data = json.loads(request_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the request {request_file}: {exc}") from None
        request, signature = CustomerRequest.from_dict(data, str(request_file)), signed
    else:
        try:
            text = Path(signed).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {signed}: {exc.strerror}") from None
        request, signature = read_signed(text, signed)
    client = s.client()
    if request.journey != "0x" + client.journey_id(journey).hex():
        raise ConfigError(f"{signed} is a request about another journey, not {journey}")
    with Vault() as vault:
        receipt = client.submit_customer_signature(request, signature, vault=vault)
    data = {"journey": journey, "action": request.action, "signer": request.signer} | receipt.as_dict()
    relayed = f"journey {journey}: the customer's {request.action} relayed {_receipt_note(receipt)}"
    if "ValueConfirmed" not in receipt.events:
        s.emit(data, relayed)
        return
    settled, table = _settled(s, client, journey, receipt)
    s.emit(data | settled, table)
    if not s.json:
        s.emit(None, relayed)


def resolve_cmd(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    upheld: Annotated[bool, typer.Option("--upheld/--rejected", help="Whether the customer was right.")],
) -> None:
    """Resolve a journey's open dispute (as an ARBITER that owned no step of it and does not fund
    it), within the playbook's dispute window."""
    s = session(ctx)
    receipt = s.client().resolve_dispute(journey, upheld)
    verdict = "upheld" if upheld else "rejected"
    s.emit(
        {"journey": journey, "upheld": upheld} | receipt.as_dict(),
        f"journey {journey}: dispute {verdict} {_receipt_note(receipt)}",
    )


def close_dispute_cmd(
    ctx: typer.Context, journey: Annotated[str, typer.Argument(help="The journey.")]
) -> None:
    """Close a dispute left past the arbiter's window, by the playbook's fallback (anyone may)."""
    s = session(ctx)
    receipt = s.client().close_dispute(journey)
    outcome = "pool refunded" if "JourneyClosed" in receipt.events else "dispute rejected"
    s.emit(
        {"journey": journey, "outcome": outcome} | receipt.as_dict(),
        f"journey {journey}: dispute closed by the playbook's fallback, {outcome} {_receipt_note(receipt)}",
    )


@customer_app.command("link")
def customer_link(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    valid: Annotated[str, typer.Option(help="How long the link works, e.g. 7d.")] = "7d",
    url: Annotated[
        str,
        typer.Option(envvar="JOURNEY_SERVICE_URL", help="Where `journey serve` answers (the link's base)."),
    ] = "http://127.0.0.1:8080",
    customer: Annotated[
        str | None,
        typer.Option(
            "--customer",
            help="Custodial: put this signing account's key in the link (keystore or dev:N; "
            "https or a loopback address only).",
        ),
    ] = None,
) -> None:
    """The link to send the customer: it opens the customer's page of this journey only (every
    link, who owns it, what was promised, what is late) with the buttons to confirm, dispute
    and rate, signed with the customer's own wallet. It expires, and cannot be made to open
    another journey or deployment.

    With --customer (custodial: the operator holds the customer's key, as `journey customer
    confirm --customer` does) the link's fragment carries the journey's signing key, which
    browsers never send to the service, and whoever holds the link speaks for the customer
    until it expires: send it over a private channel, and only to an https address."""
    from urllib.parse import urlsplit

    from journeychain.web.links import CustomerLinks

    s = session(ctx)
    base = urlsplit(url)
    if base.scheme not in ("http", "https") or not base.hostname:
        raise ConfigError(f"--url {url!r} is not an http(s) address of the service")
    client = s.reader
    jid = client.journey_id(journey)
    lifetime = parse_duration(valid, "--valid")
    token = CustomerLinks.load(str(s.deployment.key)).issue(jid, int(time.time()) + lifetime)
    link = f"{url.rstrip('/')}/c/{token}"
    if customer:
        if base.scheme != "https" and base.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError(
                "a link that carries the customer's key goes to an https address only "
                f"(not {url}): anyone on the way could read the key from the page"
            )
        key = s.account(customer)
        signer = (s.book.get(jid) or {}).get("customer")
        if signer and signer.lower() != key.address.lower():
            raise ConfigError(
                f"{key.address} is not journey {journey}'s customer ({signer}): its key would sign nothing"
            )
        link += f"#key=0x{bytes(key.key).hex()}"
    s.emit(
        {"journey": journey, "url": link, "expires_in": lifetime},
        f"journey {journey}: the customer's page, for {valid}:\n{link}",
    )
