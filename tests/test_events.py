"""Every state change emits its event with the right arguments, and the journey's rolling hash
is the hash chain of its StepCompleted events, recomputable off chain."""

import pytest
from brownie import chain, web3
from conftest import DAY, ORGS, ZERO, Customer, publisher_of, reverts_with
from eth_abi import encode
from eth_utils import keccak

from journeychain.encoding import (
    customer_subject,
    evidence_hash,
    field_pairs,
    genesis_head,
    journey_id,
    next_head,
    short_name,
)
from journeychain.playbook import role_id

MARKETING, SALES, CUSTOMER = (role_id(r) for r in ("MARKETING", "SALES", "CUSTOMER"))
DATA = b"\x22" * 32


def later(seconds):
    chain.sleep(seconds)
    chain.mine()


def b(value) -> bytes:
    return bytes(value)


def step_events(engine, jid):
    contract = web3.eth.contract(address=engine.address, abi=engine.abi)
    logs = contract.events.StepCompleted.get_logs(from_block=0, argument_filters={"journeyId": jid})
    return [log["args"] for log in sorted(logs, key=lambda e: (e["blockNumber"], e["logIndex"]))]


def rolling_hash(jid, playbook_id, customer, events) -> bytes:
    head = genesis_head(jid, playbook_id, customer)
    for e in events:
        head = next_head(head, e["step"], e["by"], e["late"], evidence_hash(e["fields"]))
    return head


def test_journey_opened(kit, engine, team):
    jid, customer, tx = kit.open(ref="OPP-events")
    event = tx.events["JourneyOpened"]
    assert b(event["journeyId"]) == jid
    assert event["playbookId"] == 1
    assert b(event["customer"]) == customer.commitment
    assert event["opener"] == team.marketing
    assert event["deadline"] == 0  # the first step has no SLA


def test_journey_opened_carries_the_first_steps_deadline(kit, engine, team):
    steps = [
        (short_name("qualify"), MARKETING, 3_600, 0, 0, 1, 0, [], [], 0),
        (short_name("confirm"), CUSTOMER, DAY, 0, 0, 0, 0, [], [], 0),
    ]
    publisher_of(engine).publishPlaybook(
        short_name("quick"), 1, steps, (0, False, 0, 0, False, DAY, False), {"from": team.admin}
    )
    jid, customer = journey_id("OPP-quick"), Customer()
    tx = engine.openJourney(jid, 2, customer.commitment, ZERO, team.funder, {"from": team.marketing})
    assert tx.events["JourneyOpened"]["playbookId"] == 2
    assert tx.events["JourneyOpened"]["deadline"] == tx.timestamp + 3_600
    assert engine.journey(jid)[4] == tx.timestamp + 3_600


@pytest.mark.smoke
def test_step_completed_carries_the_evidence_and_the_next_step(kit, engine, team):
    jid, _ = kit.to_booking()
    fields = kit.fields(kit.booking_fields())
    tx = engine.completeStep(jid, fields, [team.verifier], 0, team.success, {"from": team.sales})
    event = tx.events["StepCompleted"]
    assert b(event["journeyId"]) == jid
    assert event["step"] == 2
    assert event["by"] == team.sales
    assert event["late"] is False
    assert field_pairs(event["fields"]) == fields
    assert "evidence" not in event and "commitments" not in event
    assert event["nextAssignee"] == team.success
    assert event["nextDeadline"] == tx.timestamp + 3 * DAY


def test_step_completed_without_evidence_naming_an_organisation(kit, engine, team):
    jid, _, _ = kit.open()
    tx = kit.complete(jid, team.marketing, org=ORGS["sales"])
    event = tx.events["StepCompleted"]
    assert (event["step"], event["by"], event["late"]) == (0, team.marketing, False)
    assert list(event["fields"]) == []
    assert (event["nextOrg"], event["nextAssignee"]) == (ORGS["sales"], ZERO)
    assert event["nextDeadline"] == tx.timestamp + DAY


def test_breach_recorded_and_escalated(kit, engine, team):
    jid, _, _ = kit.open()
    opened = kit.complete(jid, team.marketing, assign=team.sales)
    later(DAY + 60)
    flag = engine.flagBreach(jid, {"from": team.outsider})
    breach = flag.events["BreachRecorded"]
    assert b(breach["journeyId"]) == jid
    assert (breach["step"], breach["assignee"], breach["deadline"]) == (1, team.sales, opened.timestamp + DAY)
    assert breach["org"] == 0
    tx = kit.escalate(jid, team.sales2, team.marketing)
    escalated = tx.events["Escalated"]
    assert b(escalated["journeyId"]) == jid
    assert (escalated["step"], escalated["from"], escalated["fromOrg"], escalated["to"]) == (
        1,
        team.sales,
        0,
        team.sales2,
    )
    assert escalated["deadline"] == tx.timestamp + DAY


def test_attested_and_attestation_revoked(kit, registry, team):
    _, customer, _ = kit.open()
    expiry = chain.time() + 30 * DAY
    tx = kit.attest_identity(customer, expiry=expiry)
    event = tx.events["Attested"]
    schema = short_name("identity_verified")
    assert b(event["schema"]) == schema
    # about the customer of this journey: keccak256(journey id, commitment)
    assert b(event["subject"]) == customer.subject == customer_subject(customer.journey, customer.commitment)
    assert event["attester"] == team.verifier
    assert event["expiry"] == expiry
    assert b(event["data"]) == DATA
    # the uid: the verifier's first attestation of this (schema, subject) pair
    key = keccak(encode(["bytes32", "bytes32", "address"], [schema, customer.subject, team.verifier.address]))
    expected_uid = keccak(encode(["bytes32", "uint32"], [key, 1]))
    assert b(event["uid"]) == expected_uid
    revoked = registry.revoke(schema, customer.subject, 1, {"from": team.verifier}).events[
        "AttestationRevoked"
    ]
    assert b(revoked["uid"]) == expected_uid
    assert revoked["attester"] == team.verifier


def test_playbook_published(suite, team, default_playbook):
    name, _, steps, options = default_playbook.publish_args()
    tx = publisher_of(suite).publishPlaybook(name, 7, steps, options, {"from": team.admin})
    event = tx.events["PlaybookPublished"]
    assert event["playbookId"] == 2
    assert b(event["name"]) == name
    assert event["version"] == 7
    assert len(event["steps"]) == len(steps)
    for emitted, authored in zip(event["steps"], steps, strict=True):
        assert b(emitted[0]) == authored[0]
        assert b(emitted[1]) == authored[1]
        assert tuple(emitted[2:7]) == authored[2:7]  # SLA, share, penalty, SLA type, warning
        assert [b(f) for f in emitted[7]] == authored[7]
        assert [b(a) for a in emitted[8]] == authored[8]
    assert tuple(event["options"]) == options


def test_rulebook_published_and_accepted(suite, team, directory):
    tx = directory.publishRulebook(b"\x33" * 32, {"from": team.admin})
    assert tx.events["RulebookPublished"]["version"] == 2
    assert b(tx.events["RulebookPublished"]["rulebook"]) == b"\x33" * 32
    tx = directory.acceptRulebook({"from": team.sales})
    assert tx.events["RulebookAccepted"]["account"] == team.sales
    assert tx.events["RulebookAccepted"]["version"] == 2


def test_participant_registered_once_when_it_joins_an_organisation(suite, team, directory):
    count_before = suite.participant(team.arbiter)[0]  # the last participant the suite registered
    tx = directory.addMember(ORGS["device_supplier"], team.outsider, {"from": team.admin})
    event = tx.events["ParticipantRegistered"]
    assert event["account"] == team.outsider
    assert event["id"] == count_before + 1
    assert tx.events["MemberAdded"]["org"] == ORGS["device_supplier"]
    assert suite.participant(team.outsider)[0] == count_before + 1
    tx = directory.grantRole(role_id("VENDOR"), team.outsider, {"from": team.admin})
    assert "ParticipantRegistered" not in tx.events
    assert tx.events["RoleGranted"]["account"] == team.outsider
    assert tuple(suite.participant(team.outsider)) == (count_before + 1, 0, ORGS["device_supplier"])


def test_rolling_hash_is_the_hash_chain_of_the_step_events(kit, engine, team):
    jid, customer, _ = kit.open()
    assert b(engine.journeyCommitments(jid)[1]) == genesis_head(jid, 1, customer.commitment)
    kit.complete(jid, team.marketing, assign=team.sales)
    later(DAY + 60)
    kit.complete(jid, team.sales)  # late: the flag is in the hash
    kit.fund(jid)
    kit.attest_identity(customer)
    kit.complete(jid, team.sales, {**kit.booking_fields(), "notes": "call back on Monday"})
    kit.complete(jid, team.success)
    kit.complete(jid, team.vendor)
    events = step_events(engine, jid)
    assert [e["step"] for e in events] == [0, 1, 2, 3, 4]
    assert [e["late"] for e in events] == [False, True, False, False, False]
    customer_commitment, head = engine.journeyCommitments(jid)
    assert len(b(customer_commitment)) == 16 and len(b(head)) == 20
    assert b(customer_commitment) == customer.commitment
    assert b(head) == rolling_hash(jid, 1, customer.commitment, events)


def test_rolling_hash_changes_with_every_record(kit, engine, team):
    jid, customer, _ = kit.open()
    kit.complete(jid, team.marketing, assign=team.sales)
    kit.complete(jid, team.sales)
    events = step_events(engine, jid)
    head = b(engine.journeyCommitments(jid)[1])
    assert head == rolling_hash(jid, 1, customer.commitment, events)
    forged = [dict(e) for e in events]
    forged[1]["late"] = True
    assert rolling_hash(jid, 1, customer.commitment, forged) != head
    forged = [dict(e) for e in events]
    forged[0]["by"] = team.admin.address
    assert rolling_hash(jid, 1, customer.commitment, forged) != head


def test_the_chain_accepts_the_history_rebuilt_from_events(kit, engine, voice, team):
    jid, _ = kit.to_customer_step()
    history = [(e["by"], e["late"], evidence_hash(e["fields"])) for e in step_events(engine, jid)]
    voice.checkHistory(jid, history)
    tampered = [*history[:-1], (team.sales, history[-1][1], history[-1][2])]
    with reverts_with("HistoryMismatch"):
        voice.checkHistory(jid, tampered)
