"""Schemas and verifiers: a schema names the role its verifiers hold and what it is about; each
verifier's attestations stand on their own, so a rival verifier can neither block a booking with
a short-lived attestation, nor supersede, shorten or revive another's; a verifier whose role is
revoked no longer counts (and may still revoke); a per-step schema is about one step of one
journey, so two tickets of one customer each need their own."""

import pytest
from brownie import accounts, chain
from conftest import HOUR, ORGS, assert_error_args, enrol, publisher_of, register_schemas, reverts_with

from journeychain.encoding import short_name, step_subject
from journeychain.playbook import Schema, parse_playbook, role_id

BOOKING = 2
MISSING, VALID, EXPIRED, REVOKED, UNAUTHORISED = range(5)
IDENTITY = short_name("identity_verified")
DATA = b"\x22" * 32
ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
def rival(kit, team):
    """A second verifier firm's verifier, funded and enrolled (VERIFIER, rulebook accepted)."""
    account = accounts.add()
    team.admin.transfer(account, 10**18)
    kit.directory.registerOrganisation(short_name("rival_verifiers"), 1, {"from": team.admin})
    org = kit.directory.organisationCount()
    enrol(kit.directory, team.admin, account, org, "VERIFIER")
    return account


def at_booking(kit, team):
    jid, customer, _ = kit.open()
    kit.complete(jid, team.marketing, assign=team.sales)
    kit.complete(jid, team.sales)
    kit.fund(jid)
    return jid, customer


def attest(registry, customer, by, expiry=0):
    return registry.attest(IDENTITY, customer.subject, expiry, DATA, {"from": by})


def refusal(jid, state):
    return f"{jid!r}, {BOOKING}, {IDENTITY!r}, {state}"


def test_a_rivals_short_lived_attestation_does_not_block_the_booking(kit, registry, team, rival):
    jid, customer = at_booking(kit, team)
    attest(registry, customer, team.verifier)
    attest(registry, customer, rival, expiry=chain.time() + 10)
    chain.sleep(60)
    chain.mine()
    # the rival's expired; the first verifier's stands: naming it books the deal
    assert registry.attestationState(IDENTITY, customer.subject, rival)[0] == EXPIRED
    assert registry.attestationState(IDENTITY, customer.subject, team.verifier)[0] == VALID
    with reverts_with("AttestationNotValid") as info:
        kit.complete(jid, team.sales, kit.booking_fields(), attesters=[rival])
    assert info.value.revert_msg.split(": ", 1)[1] == refusal(jid, EXPIRED)
    kit.complete(jid, team.sales, kit.booking_fields(), attesters=[team.verifier])
    assert kit.engine.journey(jid)[1] == BOOKING + 1


def test_no_verifier_can_revive_an_attestation_another_revoked(kit, registry, team, rival):
    jid, customer = at_booking(kit, team)
    attest(registry, customer, team.verifier)
    registry.revoke(IDENTITY, customer.subject, 1, {"from": team.verifier})  # revoked for fraud
    # the rival can neither revoke nor restore it: its own attestations are its own
    with reverts_with("NoAttestation"):
        registry.revoke(IDENTITY, customer.subject, 1, {"from": rival})
    with reverts_with("AttestationNotValid") as info:
        kit.complete(jid, team.sales, kit.booking_fields(), attesters=[team.verifier])
    assert info.value.revert_msg.split(": ", 1)[1] == refusal(jid, REVOKED)
    # naming the rival without an attestation of its own: missing
    with reverts_with("AttestationNotValid") as info:
        kit.complete(jid, team.sales, kit.booking_fields(), attesters=[rival])
    assert info.value.revert_msg.split(": ", 1)[1] == refusal(jid, MISSING)


def test_a_booking_that_names_no_attester_is_refused(kit, registry, team):
    jid, customer = at_booking(kit, team)
    attest(registry, customer, team.verifier)
    with reverts_with("AttestationNotValid") as info:
        kit.complete(jid, team.sales, kit.booking_fields(), attesters=[])
    assert info.value.revert_msg.split(": ", 1)[1] == refusal(jid, MISSING)


def test_a_non_verifier_named_as_attester_counts_for_nothing(kit, registry, team):
    jid, _ = at_booking(kit, team)
    with reverts_with("AttestationNotValid") as info:
        kit.complete(jid, team.sales, kit.booking_fields(), attesters=[team.sales])
    assert info.value.revert_msg.split(": ", 1)[1] == refusal(jid, MISSING)


def test_a_removed_verifier_no_longer_counts_and_may_still_revoke(kit, registry, team):
    verifier = accounts.add()
    team.admin.transfer(verifier, 10**18)
    enrol(kit.directory, team.admin, verifier, ORGS["verifiers"], "VERIFIER")
    jid, customer = at_booking(kit, team)
    attest(registry, customer, verifier)
    kit.directory.revokeRole(role_id("VERIFIER"), verifier, {"from": team.admin})
    assert registry.attestationState(IDENTITY, customer.subject, verifier)[0] == UNAUTHORISED
    with reverts_with("AttestationNotValid") as info:
        kit.complete(jid, team.sales, kit.booking_fields(), attesters=[verifier])
    assert info.value.revert_msg.split(": ", 1)[1] == refusal(jid, UNAUTHORISED)
    # no new attestation, but it can still withdraw what it said
    with reverts_with("MissingRole"):
        attest(registry, customer, verifier)
    registry.revoke(IDENTITY, customer.subject, 1, {"from": verifier})
    assert registry.attestationState(IDENTITY, customer.subject, verifier)[0] == REVOKED


def test_a_verifier_replaces_only_its_own_attestation(kit, registry, team, rival):
    jid, customer = at_booking(kit, team)
    attest(registry, customer, team.verifier)
    attest(registry, customer, rival)
    attest(registry, customer, rival, expiry=chain.time() + 10)  # the rival shortens its own
    chain.sleep(60)
    chain.mine()
    assert registry.attestationState(IDENTITY, customer.subject, team.verifier)[0] == VALID
    assert registry.attestationState(IDENTITY, customer.subject, rival)[0] == EXPIRED
    kit.complete(jid, team.sales, kit.booking_fields(), attesters=[team.verifier])


# --- schemas -------------------------------------------------------------------------------


def test_value_delivered_is_registered_with_the_registry(registry):
    role, subject = registry.schemaOf(short_name("value_delivered"))
    assert bytes(role) == role_id("VERIFIER") and subject == 1


def test_only_admin_registers_a_schema(kit, registry, team):
    with reverts_with("MissingRole"):
        registry.registerSchema(short_name("kyc_done"), role_id("VERIFIER"), 0, {"from": team.verifier})
    tx = registry.registerSchema(short_name("kyc_done"), role_id("VERIFIER"), 0, {"from": team.admin})
    event = tx.events["SchemaRegistered"]
    assert bytes(event["schema"]) == short_name("kyc_done") and bytes(event["role"]) == role_id("VERIFIER")


def test_a_schema_never_changes(kit, registry, team):
    registry.registerSchema(short_name("credit_checked"), role_id("VERIFIER"), 0, {"from": team.admin})
    with reverts_with("SchemaExists") as info:
        registry.registerSchema(short_name("credit_checked"), role_id("FUNDER"), 1, {"from": team.admin})
    assert_error_args(info, short_name("credit_checked"))
    assert bytes(registry.schemaOf(short_name("credit_checked"))[0]) == role_id("VERIFIER")


@pytest.mark.parametrize(
    "name, role, error",
    [
        ("x" * 31, "VERIFIER", "InvalidSchema"),
        ("", "VERIFIER", "InvalidSchema"),
        ("bad_role", "NO_SUCH_ROLE", "UnknownRole"),
        ("admin_role", "ADMIN", "UnknownRole"),
    ],
)
def test_a_bad_schema_is_refused(kit, registry, team, name, role, error):
    raw = name.encode().ljust(32, b"\0")
    with reverts_with(error):
        registry.registerSchema(raw, role_id(role), 0, {"from": team.admin})


def test_a_playbook_naming_an_unregistered_schema_is_refused(kit, engine, team, default_playbook):
    spec = default_playbook.steps[BOOKING]
    steps = list(default_playbook.publish_args()[2])
    steps[BOOKING] = (*steps[BOOKING][:8], [short_name("never_registered")], 0)
    args = list(default_playbook.publish_args())
    args[2] = steps
    with reverts_with("UnknownSchema") as info:
        publisher_of(engine).publishPlaybook(*args, {"from": team.admin})
    assert_error_args(info, short_name("never_registered"))
    assert spec.attestations == ("identity_verified",)


def test_a_schema_for_a_custom_role_takes_a_verifier_holding_it(kit, registry, team):
    kit.directory.defineRole(short_name("PARTS_CERTIFIER"), {"from": team.admin})
    schema = Schema("parts_ok", "PARTS_CERTIFIER", "journey")
    registry.registerSchema(*schema.as_tuple(), {"from": team.admin})
    jid, _ = at_booking(kit, team)
    # a VERIFIER does not hold PARTS_CERTIFIER
    with reverts_with("MissingRole"):
        registry.attest(short_name("parts_ok"), jid, 0, DATA, {"from": team.verifier})


# --- per-journey and per-step subjects -------------------------------------------------------


FIELD_SERVICE = """
name: ticket
roles: [SUPPORT]
schemas:
  parts_certified: {role: VERIFIER, subject: step}
options: {commit_step: triaged, fund_before_commit: false}
steps:
  - {name: triaged, role: SUPPORT, sla: 1d, share_bps: 5000}
  - {name: part_delivered, role: VENDOR, sla: 3d, share_bps: 5000, attestations: [parts_certified]}
  - {name: fixed, role: CUSTOMER, sla: 14d}
"""


@pytest.fixture(scope="module")
def ticket_kit(kit, engine, team):
    import yaml
    from conftest import variant_kit

    playbook = parse_playbook(yaml.safe_load(FIELD_SERVICE), "ticket")
    kit.directory.defineRole(short_name("SUPPORT"), {"from": team.admin})
    desk = accounts.add()
    team.admin.transfer(desk, 10**18)
    enrol(kit.directory, team.admin, desk, ORGS["success"], "SUPPORT")
    register_schemas(engine, playbook, team.admin)
    tx = publisher_of(engine).publishPlaybook(*playbook.publish_args(), {"from": team.admin})
    ticket = variant_kit(kit, tx.events["PlaybookPublished"]["playbookId"])
    ticket.desk = desk
    return ticket


def test_a_step_attestation_is_about_that_step_of_that_journey(ticket_kit, registry, team):
    k = ticket_kit
    first, customer, _ = k.open(sender=k.desk)
    second, _, _ = k.open(customer, sender=k.desk)  # the same customer, a second ticket
    for jid in (first, second):
        k.complete(jid, k.desk, org=ORGS["device_supplier"])
    schema = short_name("parts_certified")
    registry.attest(schema, step_subject(first, 1), 0, DATA, {"from": team.verifier})
    k.complete(first, team.vendor)
    assert k.engine.journey(first)[1] == 2
    # the certificate of the first ticket's delivery does not certify the second's
    with reverts_with("AttestationNotValid") as info:
        k.complete(second, team.vendor)
    assert info.value.revert_msg.split(": ", 1)[1] == f"{second!r}, 1, {schema!r}, {MISSING}"
    # nor does one about the customer
    registry.attest(schema, customer.subject, 0, DATA, {"from": team.verifier})
    with reverts_with("AttestationNotValid"):
        k.complete(second, team.vendor)
    registry.attest(schema, step_subject(second, 1), 0, DATA, {"from": team.verifier})
    k.complete(second, team.vendor)
    assert k.engine.journey(second)[1] == 2


def test_an_attestation_names_a_subject(kit, registry, team):
    with reverts_with("EmptyAttestation"):
        registry.attest(IDENTITY, b"\0" * 32, 0, DATA, {"from": team.verifier})


def test_an_attestation_of_a_schema_never_registered_is_refused(kit, registry, team):
    with reverts_with("UnknownSchema") as info:
        registry.attest(short_name("made_up"), b"\x01" * 32, 0, DATA, {"from": team.verifier})
    assert_error_args(info, short_name("made_up"))


def test_expired_rival_then_valid_after_one_hour(kit, registry, team, rival):
    """The SDK's choice of attester, done by hand: the newest valid one counts whoever made it."""
    jid, customer = at_booking(kit, team)
    attest(registry, customer, rival, expiry=chain.time() + HOUR)
    chain.sleep(2 * HOUR)
    chain.mine()
    attest(registry, customer, team.verifier)
    valid = [
        a
        for a in (rival, team.verifier)
        if registry.attestationState(IDENTITY, customer.subject, a)[0] == VALID
    ]
    assert valid == [team.verifier]
    kit.complete(jid, team.sales, kit.booking_fields(), attesters=valid)
    assert kit.engine.journey(jid)[1] == BOOKING + 1
    assert ZERO not in valid


def test_an_attestation_about_a_customer_does_not_carry_over_to_another_journey(kit, registry, team):
    """An opener reusing a verified customer's commitment for a journey of its own gets no
    attestation with it: a customer attestation is about the customer of one journey."""
    verified, customer = at_booking(kit, team)
    attest(registry, customer, team.verifier)
    kit.complete(verified, team.sales, kit.booking_fields())
    reused, _, _ = kit.open(customer)  # the same commitment, another journey
    kit.complete(reused, team.marketing, assign=team.sales)
    kit.complete(reused, team.sales)
    kit.fund(reused)
    with reverts_with("AttestationNotValid") as info:
        kit.complete(reused, team.sales, kit.booking_fields())
    assert info.value.revert_msg.split(": ", 1)[1] == refusal(reused, MISSING)
