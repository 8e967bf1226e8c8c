"""Nobody is credited until value is confirmed: not while the customer is silent, not
while a dispute holds the journey, and not by calling the engine's settlement without the
customer's word (its signature, a verifier's attestation where allowed, or its silence
past a confirmation window)."""

from conftest import POOL, Customer, assert_error_args, reverts_with

OWNERS = ("marketing", "sales", "success", "vendor", "funder")


def _no_credit(engine, team):
    return all(engine.creditOf(getattr(team, name)) == 0 for name in OWNERS)


def test_no_owner_credited_while_customer_has_not_confirmed(kit, engine, token, team):
    escrow = token.balanceOf(engine)
    jid, _ = kit.to_customer_step()
    assert _no_credit(engine, team)
    assert engine.journey(jid)[7] == POOL
    assert token.balanceOf(engine) == escrow + POOL
    with reverts_with("NothingToClaim"):
        engine.claim({"from": team.vendor})


def test_no_credit_while_a_dispute_holds_the_journey(kit, engine, team):
    jid, customer = kit.to_customer_step()
    kit.dispute(jid, customer, step=4)
    assert _no_credit(engine, team)
    assert engine.journey(jid)[7] == POOL


def test_confirmation_before_the_customer_step_refused(kit, engine, team):
    jid, customer = kit.to_booking()
    kit.complete(jid, team.sales, kit.booking_fields())
    with reverts_with("StepNotReached") as info:
        kit.confirm(jid, customer)
    assert_error_args(info, jid, 3)
    assert _no_credit(engine, team)
    assert engine.journey(jid)[2] == 1


def test_settlement_only_on_the_customer_s_word(kit, engine, team):
    jid, customer = kit.to_customer_step()
    forger = Customer()  # signs for itself, with the customer's profile
    sig = kit.sign(forger, "ConfirmValue", {"journeyId": jid, "playbookId": 1})
    sig = (sig[0], customer.profile, *sig[2:])
    with reverts_with("NotCustomer") as info:
        engine.confirmValue(jid, kit.history(jid), sig, {"from": team.outsider})
    assert_error_args(info, jid, forger.address)
    with reverts_with("VerifierConfirmationOff"):
        engine.confirmByAttestation(
            jid, kit.history(jid), customer.address, customer.profile, team.verifier, {"from": team.outsider}
        )
    with reverts_with("WindowNotElapsed"):
        engine.release(jid, kit.history(jid), customer.address, customer.profile, {"from": team.outsider})
    assert _no_credit(engine, team)
    assert engine.creditOf(team.outsider) == 0
    assert engine.journey(jid)[7] == POOL


def test_forged_history_credits_nobody(kit, engine, team):
    jid, customer = kit.to_customer_step()
    sig = kit.sign(customer, "ConfirmValue", {"journeyId": jid, "playbookId": 1})
    history = [
        (team.outsider if i == 4 else by, late, ev) for i, (by, late, ev) in enumerate(kit.history(jid))
    ]
    with reverts_with("HistoryMismatch"):
        engine.confirmValue(jid, history, sig, {"from": team.outsider})
    short = kit.history(jid)[:-1]
    with reverts_with("HistoryMismatch"):
        engine.confirmValue(jid, short, sig, {"from": team.outsider})
    assert engine.creditOf(team.outsider) == 0
    assert _no_credit(engine, team)
    assert engine.journey(jid)[2] == 1
