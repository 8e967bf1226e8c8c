"""Value established without the customer's signature: `journey release` (the confirmation
window passed in silence) and `journey confirm-by-attestation` (a verifier's value_delivered
attestation)."""

from __future__ import annotations

from typing import Annotated

import typer

from journeychain.cli.customer import ProfileOpt, _request_customer, show_payouts
from journeychain.cli.session import Session, session
from journeychain.client import JourneyClient
from journeychain.tx import Receipt

SignerOpt = Annotated[
    str | None, typer.Option(help="The customer's signing address (default: the local record).")
]


def release_from_records(
    s: Session, client: JourneyClient, journey: str, signer: str | None = None, profile_hex: str | None = None
) -> Receipt:
    """Releases the journey's pool, opening its customer commitment with the signer and profile
    hash given or kept in the local records (a ConfigError when neither knows them)."""
    who, hashed = _request_customer(s, journey, signer, profile_hex)
    return client.release(journey, who, hashed)


def release_cmd(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey: its reference or 0x id.")],
    signer: SignerOpt = None,
    profile_hex: ProfileOpt = None,
) -> None:
    """Release a journey's pool once its confirmation window passed with the customer silent.

    Where the playbook has a `confirm_window`, a customer who neither confirms nor disputes
    within it, from the start of the customer's step, is taken to have received value: anyone
    may then release the pool, and every step owner is credited as on the customer's
    confirmation. Before the window has passed it is refused with the moment it closes.
    `journey keeper --release` does it for every journey whose window passed, each round."""
    s = session(ctx)
    client = s.client()
    receipt = release_from_records(s, client, journey, signer, profile_hex)
    show_payouts(s, client, journey, receipt, "value released after the confirmation window")


def confirm_by_attestation_cmd(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey: its reference or 0x id.")],
    verifier: Annotated[
        str | None,
        typer.Option(
            help="Whose value_delivered attestation (address, alias or dev:N); default: the newest valid one."
        ),
    ] = None,
    signer: SignerOpt = None,
    profile_hex: ProfileOpt = None,
) -> None:
    """Confirm a journey's value from a verifier's value_delivered attestation.

    Where the playbook lets a verifier confirm (`verifier_may_confirm`), a verifier's valid
    value_delivered attestation about the journey (`journey attest REF value_delivered`) stands
    in for the customer's signature at the customer's step: every step owner is credited
    (anyone may relay it). Refused when there is no valid attestation (of --verifier, when
    named), the playbook does not allow it or the journey is not at the customer's step."""
    s = session(ctx)
    client = s.client()
    who, hashed = _request_customer(s, journey, signer, profile_hex)
    chosen = s.address(verifier) if verifier else None
    receipt = client.confirm_by_attestation(journey, who, hashed, chosen)
    by = receipt.events["ValueConfirmed"][0]["by"]
    show_payouts(s, client, journey, receipt, f"value confirmed by {by}'s attestation")
