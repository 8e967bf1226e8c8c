"""A deal is booked only complete: the customer's goals, success criteria, decision maker and
contract value, each with a non-zero commitment, in any order, and a funded pool."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import BOOKING_FIELDS, ORGS, reverts_with

from journeychain.encoding import commit, field_pairs, new_salt, short_name

BOOKING = 2  # the deal_booked step


def revert_args(info) -> str:
    return info.value.revert_msg.split(": ", 1)[1]


def evidence(names):
    keys = [short_name(n) for n in names]
    return keys, [commit(f"{n} value", new_salt()) for n in names]


def book(engine, jid, team, keys, commitments):
    fields = list(zip(keys, commitments, strict=True))
    return engine.completeStep(
        jid, fields, [team.verifier], ORGS["success"], "0x" + "00" * 20, {"from": team.sales}
    )


@pytest.mark.smoke
def test_a_complete_booking_is_accepted(kit, engine, team):
    jid, _ = kit.to_booking()
    keys, commitments = evidence(BOOKING_FIELDS)
    tx = book(engine, jid, team, keys, commitments)
    event = tx.events["StepCompleted"]
    assert event["step"] == BOOKING
    assert field_pairs(event["fields"]) == list(zip(keys, commitments, strict=True))
    assert engine.journey(jid)[1] == BOOKING + 1


@pytest.mark.parametrize("missing", BOOKING_FIELDS)
def test_booking_without_a_required_field_is_refused_naming_it(kit, engine, team, missing):
    jid, _ = kit.to_booking()
    with reverts_with("MissingField") as info:
        kit.complete(jid, team.sales, kit.booking_fields(**{missing: False}))
    assert revert_args(info) == f"{jid!r}, {BOOKING}, {short_name(missing)!r}"
    assert engine.journey(jid)[1] == BOOKING


@pytest.mark.parametrize("empty", BOOKING_FIELDS)
def test_booking_with_a_zero_commitment_is_refused_naming_the_field(kit, engine, team, empty):
    jid, _ = kit.to_booking()
    with reverts_with("MissingField") as info:
        kit.complete(jid, team.sales, kit.booking_fields(**{empty: None}))
    assert revert_args(info) == f"{jid!r}, {BOOKING}, {short_name(empty)!r}"
    assert engine.journey(jid)[1] == BOOKING


def test_zero_commitment_in_another_order_is_refused_naming_the_field(kit, engine, team):
    jid, _ = kit.to_booking()
    names = list(reversed(BOOKING_FIELDS))
    keys, commitments = evidence(names)
    commitments[names.index("success_criteria")] = b"\x00" * 32
    with reverts_with("MissingField") as info:
        book(engine, jid, team, keys, commitments)
    assert revert_args(info) == f"{jid!r}, {BOOKING}, {short_name('success_criteria')!r}"
    assert engine.journey(jid)[1] == BOOKING


def test_booking_fields_in_another_order_are_accepted(kit, engine, team):
    jid, _ = kit.to_booking()
    names = [BOOKING_FIELDS[i] for i in (2, 0, 3, 1)]
    keys, commitments = evidence(names)
    tx = book(engine, jid, team, keys, commitments)
    assert [k for k, _ in field_pairs(tx.events["StepCompleted"]["fields"])] == keys
    assert engine.journey(jid)[1] == BOOKING + 1


def test_booking_with_extra_fields_is_accepted(kit, engine, team):
    jid, _ = kit.to_booking()
    keys, commitments = evidence([*BOOKING_FIELDS, "notes", "region"])
    tx = book(engine, jid, team, keys, commitments)
    assert len(tx.events["StepCompleted"]["fields"]) == 6
    assert engine.journey(jid)[1] == BOOKING + 1


def test_booking_with_extra_fields_first_is_accepted(kit, engine, team):
    jid, _ = kit.to_booking()
    keys, commitments = evidence(["notes", *BOOKING_FIELDS])
    book(engine, jid, team, keys, commitments)
    assert engine.journey(jid)[1] == BOOKING + 1


def test_extra_fields_do_not_stand_in_for_a_required_one(kit, engine, team):
    jid, _ = kit.to_booking()
    keys, commitments = evidence(["customer_goals", "success_criteria", "decision_maker", "notes"])
    with reverts_with("MissingField") as info:
        book(engine, jid, team, keys, commitments)
    assert revert_args(info) == f"{jid!r}, {BOOKING}, {short_name('contract_value')!r}"


def test_booking_is_refused_until_the_pool_is_funded(kit, engine, team):
    jid, _ = kit.to_booking(fund=False)
    assert engine.journey(jid)[7] == 0
    with reverts_with("PoolNotFunded") as info:
        kit.complete(jid, team.sales, kit.booking_fields())
    assert revert_args(info) == f"{jid!r}, {BOOKING}"
    assert engine.journey(jid)[1] == BOOKING
    kit.fund(jid)
    kit.complete(jid, team.sales, kit.booking_fields())
    assert engine.journey(jid)[1] == BOOKING + 1


def test_booking_refused_when_a_field_is_given_twice(kit, engine, team):
    """Two contradictory contract values cannot both be committed: the key given twice is refused."""
    jid, _ = kit.to_booking()
    fields = kit.fields(kit.booking_fields()) + kit.fields({"contract_value": "1 EUR"})
    with reverts_with("DuplicateField") as info:
        engine.completeStep(jid, fields, [team.verifier], ORGS["success"], ZERO_ADDRESS, {"from": team.sales})
    assert info.value.revert_msg.endswith(f"2, {short_name('contract_value')!r}")
    assert engine.journey(jid)[1] == 2
