"""The command line driven as a user types it, and the module chain that `journey list`'s and
the index's tests read: seven journeys in every state a list can show.

LATE and FLAGGED wait past their lead acceptance's deadline (24 working hours; FLAGGED
flagged); SETTLED has had value confirmed and rated; BOOKED waits at onboarding, owned by the
Success organisation; DISPUTED waits at the customer's step with a dispute open; GONE was
cancelled; FRESH was opened last, its deadline ahead."""

from __future__ import annotations

from typer.testing import CliRunner

from journeychain.accounts import dev_account
from journeychain.chain import Chain
from journeychain.cli import app
from journeychain.client import Customer
from tests.conftest import BOOKING, cast_network

REP = dev_account(2).address
REFERENCES = ("SETTLED", "BOOKED", "DISPUTED", "GONE", "LATE", "FLAGGED", "FRESH")


def run(*args: str, env: dict | None = None):
    result = CliRunner().invoke(app, list(args), env=env)
    assert "Traceback" not in result.output and "unexpected failure" not in result.output
    return result


def ok(*args: str, env: dict | None = None) -> str:
    result = run(*args, env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def fails(*args: str, env: dict | None = None) -> str:
    result = run(*args, env=env)
    assert result.exit_code == 2 and result.stdout == "", result.output
    return result.stderr.strip().removeprefix("error: ")


def opened(reference: str, customer: Customer) -> None:
    """`journey open` for dev:9 (its profile hash given), dev:6 as the funder, by Marketing."""
    profile = "0x" + customer.profile.hex()
    ok(
        "-a",
        "dev:1",
        "open",
        reference,
        "--customer",
        "dev:9",
        "--profile-hash",
        profile,
        "--funder",
        "dev:6",
    )


def seven_journeys(journey_chain: Chain, customer: Customer) -> list:
    """The walk-through's cast (conftest.cast_network) and the seven journeys above; returns
    the cast's clients."""
    act = cast_network(journey_chain)
    orgs = {o["name"]: o["org"] for o in act[0].organisations()}
    for reference in ("LATE", "FLAGGED"):
        opened(reference, customer)
        act[1].complete_step(reference, assign=REP)
    # their 24 working hours run out within five days; onboarding's 3 days start after this
    journey_chain.advance(act[7].journey("FLAGGED").deadline - 3600 - journey_chain.now())
    for reference in ("SETTLED", "BOOKED", "DISPUTED", "GONE"):
        opened(reference, customer)
        act[1].complete_step(reference, assign=REP)
    for reference in ("SETTLED", "BOOKED", "DISPUTED"):
        act[2].complete_step(reference)
        act[6].fund(reference, 1000 * 10**18)
        act[5].attest_customer(reference, "identity_verified")
        act[2].complete_step(reference, BOOKING, org=orgs["Success"])
    for reference in ("SETTLED", "DISPUTED"):
        act[3].complete_step(reference, org=orgs["Devices"])
        act[4].complete_step(reference)
    act[7].customer_confirm("SETTLED", customer)
    act[7].customer_rate("SETTLED", customer, "device_delivered", 4)
    act[7].customer_dispute("DISPUTED", customer, "device_delivered", "no device")
    act[0].cancel("GONE")
    journey_chain.advance(2 * 3600)  # the leads' deadlines pass by an hour (and nothing else's)
    act[7].flag_breach("FLAGGED")
    opened("FRESH", customer)
    act[1].complete_step("FRESH", assign=REP)
    return act
