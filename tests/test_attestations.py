"""Attestations: made by VERIFIERs only, revoked by their attester only and only once, never
already expired; the deal is booked only with a valid identity_verified attestation about the
customer (its commitment, zero-padded to 32 bytes) by the verifier the booking names, that
verifier's newest attestation of the schema being the one checked: revoking its older one changes
nothing. Only the registry records attestations in the engine. (Rival verifiers, schemas and
subjects: test_schemas.py.)"""

import pytest
from brownie import chain
from conftest import HOUR, ORGS, enrol, reverts_with
from eth_abi import encode
from eth_utils import keccak

from journeychain.encoding import short_name
from journeychain.playbook import role_id

BOOKING = 2
VERIFIER = repr(role_id("VERIFIER"))
MISSING, VALID, EXPIRED, REVOKED, UNAUTHORISED = range(5)
IDENTITY = short_name("identity_verified")
DATA = b"\x22" * 32


def revert_args(info) -> str:
    return info.value.revert_msg.split(": ", 1)[1]


def at_booking(kit, team):
    """A funded journey at the booking step, with no attestation yet."""
    jid, customer, _ = kit.open()
    kit.complete(jid, team.marketing, assign=team.sales)
    kit.complete(jid, team.sales)
    kit.fund(jid)
    return jid, customer


def uid_of(tx):
    return bytes(tx.events["Attested"]["uid"])


def state_of(registry, customer, attester):
    """The state of `attester`'s identity attestation about `customer`, and `attester` (zero
    when it attested nothing)."""
    state, uid = registry.attestationState(IDENTITY, customer.subject, attester)
    return int(state), attester if bytes(uid) != b"\x00" * 32 else "0x" + "00" * 20


def refusal(jid, state):
    return f"{jid!r}, {BOOKING}, {IDENTITY!r}, {state}"


def revoke(registry, customer, attester, version: int | None = None):
    """`attester` revokes its identity attestation about `customer` numbered `version` (by
    default its newest, as the engine counts them)."""
    if version is None:
        version = engine_record(registry, record_key(IDENTITY, customer.subject, attester))[3]
    return registry.revoke(IDENTITY, customer.subject, version, {"from": attester})


def expected_uid(customer, attester, version: int) -> bytes:
    """The uid of `attester`'s `version`th identity attestation about `customer`."""
    key = record_key(IDENTITY, customer.subject, attester)
    return keccak(encode(["bytes32", "uint32"], [key, version]))


def record_key(schema, subject, attester):
    """The key under which the engine keeps `attester`'s newest attestation of (schema, subject)."""
    return keccak(encode(["bytes32", "bytes32", "address"], [schema, subject, str(attester)]))


@pytest.mark.parametrize("attester", ["sales", "admin", "outsider"])
def test_only_a_verifier_attests(kit, registry, team, attester):
    _, customer = at_booking(kit, team)
    account = getattr(team, attester)
    with reverts_with("MissingRole") as info:
        registry.attest(IDENTITY, customer.subject, 0, DATA, {"from": account})
    assert revert_args(info) == f"{str(account).lower()}, {VERIFIER}"
    assert state_of(registry, customer, team.verifier) == (MISSING, "0x" + "00" * 20)


def test_a_verifiers_attestation_is_valid(kit, registry, team):
    _, customer = at_booking(kit, team)
    tx = kit.attest_identity(customer)
    assert state_of(registry, customer, team.verifier) == (VALID, team.verifier)
    key = record_key(IDENTITY, customer.subject, team.verifier)
    assert tuple(engine_record(registry, key)) == (True, 0, False, 1)  # the engine's one record
    assert uid_of(tx) == expected_uid(customer, team.verifier, 1)
    assert bytes(registry.attestationState(IDENTITY, customer.subject, team.verifier)[1]) == uid_of(tx)


def test_each_attestation_of_a_pair_has_its_own_uid(kit, registry, team):
    _, customer = at_booking(kit, team)
    first, second = uid_of(kit.attest_identity(customer)), uid_of(kit.attest_identity(customer))
    assert first != second
    assert (first, second) == (
        expected_uid(customer, team.verifier, 1),
        expected_uid(customer, team.verifier, 2),
    )


def engine_record(registry, key):
    from brownie import JourneyEngine

    return JourneyEngine.at(registry.engine()).attestationRecord(key)


def test_zero_schema_or_subject_is_refused(kit, registry, team):
    _, customer = at_booking(kit, team)
    with reverts_with("UnknownSchema"):
        registry.attest(b"\x00" * 32, customer.subject, 0, DATA, {"from": team.verifier})
    with reverts_with("EmptyAttestation"):
        registry.attest(IDENTITY, b"\x00" * 32, 0, DATA, {"from": team.verifier})


def test_booking_without_identity_verified_is_refused(kit, engine, team):
    jid, _ = at_booking(kit, team)
    with reverts_with("AttestationNotValid") as info:
        kit.complete(jid, team.sales, kit.booking_fields())
    assert revert_args(info) == refusal(jid, MISSING)
    assert engine.journey(jid)[1] == BOOKING


def test_booking_with_an_attestation_about_another_customer_is_refused(kit, engine, team):
    jid, _ = at_booking(kit, team)
    _, other = at_booking(kit, team)
    kit.attest_identity(other)
    with reverts_with("AttestationNotValid") as info:
        kit.complete(jid, team.sales, kit.booking_fields())
    assert revert_args(info) == refusal(jid, MISSING)


def test_booking_with_an_expired_attestation_is_refused(kit, engine, registry, team):
    jid, customer = at_booking(kit, team)
    kit.attest_identity(customer, expiry=chain.time() + HOUR)
    chain.sleep(2 * HOUR)
    chain.mine()
    assert state_of(registry, customer, team.verifier) == (EXPIRED, team.verifier)
    with reverts_with("AttestationNotValid") as info:
        kit.complete(jid, team.sales, kit.booking_fields())
    assert revert_args(info) == refusal(jid, EXPIRED)
    assert engine.journey(jid)[1] == BOOKING


def test_booking_before_the_attestation_expires_is_accepted(kit, engine, team):
    jid, customer = at_booking(kit, team)
    kit.attest_identity(customer, expiry=chain.time() + 2 * HOUR)
    kit.complete(jid, team.sales, kit.booking_fields())
    assert engine.journey(jid)[1] == BOOKING + 1


def test_booking_with_a_revoked_attestation_is_refused(kit, engine, registry, team):
    jid, customer = at_booking(kit, team)
    kit.attest_identity(customer)
    revoke(registry, customer, team.verifier)
    assert state_of(registry, customer, team.verifier) == (REVOKED, team.verifier)
    with reverts_with("AttestationNotValid") as info:
        kit.complete(jid, team.sales, kit.booking_fields())
    assert revert_args(info) == refusal(jid, REVOKED)
    assert engine.journey(jid)[1] == BOOKING


def test_only_its_attester_revokes_an_attestation(kit, engine, registry, team):
    """A rival verifier (or anyone) revoking "the" attestation of the pair revokes only its own:
    it has none, so it is refused and the verifier's attestation stays valid."""
    enrol(kit.directory, team.admin, team.outsider, ORGS["verifiers"], "VERIFIER")
    _, customer = at_booking(kit, team)
    kit.attest_identity(customer)
    with reverts_with("NoAttestation") as info:
        revoke(registry, customer, team.outsider)
    assert revert_args(info) == f"{IDENTITY!r}, {customer.subject!r}, {str(team.outsider).lower()}"
    with reverts_with("NoAttestation"):
        revoke(registry, customer, team.sales)
    assert state_of(registry, customer, team.verifier) == (VALID, team.verifier)


def test_an_attestation_is_revoked_only_once(kit, registry, team):
    _, customer = at_booking(kit, team)
    uid = uid_of(kit.attest_identity(customer))
    tx = revoke(registry, customer, team.verifier)
    assert bytes(tx.events["AttestationRevoked"]["uid"]) == uid
    assert tx.return_value == "0x" + uid.hex()
    key = record_key(IDENTITY, customer.subject, team.verifier)
    assert tuple(engine_record(registry, key)) == (True, 0, True, 1)
    with reverts_with("AttestationAlreadyRevoked") as info:
        revoke(registry, customer, team.verifier)
    assert revert_args(info) == repr(uid)


def test_revoking_what_was_never_attested_is_refused(registry, suite, team):
    subject = b"\x5a" * 32
    with reverts_with("NoAttestation") as info:
        registry.revoke(IDENTITY, subject, 1, {"from": team.verifier})
    assert revert_args(info) == f"{IDENTITY!r}, {subject!r}, {str(team.verifier).lower()}"


def test_an_expiry_in_the_past_is_refused(kit, registry, team):
    _, customer = at_booking(kit, team)
    expiry = chain.time() - 60
    with reverts_with("ExpiryNotInFuture") as info:
        kit.attest_identity(customer, expiry=expiry)
    assert revert_args(info) == str(expiry)
    assert state_of(registry, customer, team.verifier)[0] == MISSING


def test_re_attesting_after_a_revocation_makes_booking_possible(kit, engine, registry, team):
    jid, customer = at_booking(kit, team)
    kit.attest_identity(customer)
    revoke(registry, customer, team.verifier)
    with reverts_with("AttestationNotValid"):
        kit.complete(jid, team.sales, kit.booking_fields())
    kit.attest_identity(customer)
    assert state_of(registry, customer, team.verifier) == (VALID, team.verifier)
    kit.complete(jid, team.sales, kit.booking_fields())
    assert engine.journey(jid)[1] == BOOKING + 1


def test_the_newest_attestation_wins_over_an_older_valid_one(kit, engine, registry, team):
    jid, customer = at_booking(kit, team)
    kit.attest_identity(customer)
    newest = uid_of(kit.attest_identity(customer))
    assert bytes(revoke(registry, customer, team.verifier).events["AttestationRevoked"]["uid"]) == newest
    assert state_of(registry, customer, team.verifier) == (REVOKED, team.verifier)
    with reverts_with("AttestationNotValid") as info:
        kit.complete(jid, team.sales, kit.booking_fields())
    assert revert_args(info) == refusal(jid, REVOKED)


def test_a_revocation_signed_for_one_attestation_never_revokes_a_later_one(kit, registry, team):
    """A relayer that lands a revocation of attestation 1 after the verifier's corrected
    attestation 2 (or holds it until any later one) revokes nothing: it names version 1."""
    jid, customer = at_booking(kit, team)
    first = uid_of(kit.attest_identity(customer))
    second = uid_of(kit.attest_identity(customer))
    with reverts_with("AttestationReplaced") as info:
        revoke(registry, customer, team.verifier, version=1)
    assert revert_args(info) == f"{first!r}, {second!r}"
    state, uid = registry.attestationState(IDENTITY, customer.subject, team.verifier)
    assert (int(state), bytes(uid)) == (VALID, second)
    kit.complete(jid, team.sales, kit.booking_fields())
    assert kit.engine.journey(jid)[1] == BOOKING + 1


def test_a_new_attestation_after_a_revocation_is_valid_and_the_revoked_one_stays_so(
    kit, engine, registry, team
):
    """Re-attesting replaces the verifier's own revoked attestation with a new one (a new uid):
    the revoked uid is never valid again."""
    jid, customer = at_booking(kit, team)
    revoked = uid_of(kit.attest_identity(customer))
    revoke(registry, customer, team.verifier)
    renewed = uid_of(kit.attest_identity(customer))
    assert renewed != revoked
    state, uid = registry.attestationState(IDENTITY, customer.subject, team.verifier)
    assert (int(state), bytes(uid)) == (VALID, renewed)
    kit.complete(jid, team.sales, kit.booking_fields())
    assert engine.journey(jid)[1] == BOOKING + 1


@pytest.mark.parametrize("caller", ["verifier", "admin", "outsider"])
def test_only_the_registry_records_attestations_in_the_engine(kit, engine, registry, team, caller):
    jid, customer = at_booking(kit, team)
    account = getattr(team, caller)
    key = record_key(IDENTITY, customer.subject, team.verifier)
    with reverts_with("NotRegistry") as info:
        engine.recordAttestation(key, 0, False, {"from": account})
    assert revert_args(info) == str(account).lower()
    # nothing was recorded: the booking still sees no attestation
    with reverts_with("AttestationNotValid") as info:
        kit.complete(jid, team.sales, kit.booking_fields())
    assert revert_args(info) == refusal(jid, MISSING)
    # nor can a valid attestation be recorded as revoked
    kit.attest_identity(customer)
    with reverts_with("NotRegistry"):
        engine.recordAttestation(key, 0, True, {"from": account})
    kit.complete(jid, team.sales, kit.booking_fields())
    assert engine.journey(jid)[1] == BOOKING + 1
