"""The rulebook: a participant acts only after accepting the version in force, by transaction or
by an EIP-712 signature that anyone relays through the customer voice."""

import pytest
from brownie import chain
from conftest import RULEBOOK, reverts_with
from eth_account import Account

from journeychain.encoding import journey_id
from journeychain.signing import sign_typed

MARKETING = 1
RULEBOOK_V2 = b"\x22" * 32


def revert_args(info) -> str:
    return info.value.revert_msg.split(": ", 1)[1]


def fmt(*values) -> str:
    """The arguments of a custom error as brownie prints them."""
    out = []
    for v in values:
        if isinstance(v, (bytes, bytearray)):
            out.append(repr(bytes(v)))
        elif isinstance(v, int):
            out.append(str(v))
        else:
            out.append(str(v).lower())
    return ", ".join(out)


def rulebook_in_force(engine) -> tuple[int, bytes]:
    version, rulebook = engine.rulebook()
    return int(version), bytes(rulebook)


def acceptance(engine, voice, key, account=None, version=None, rulebook=None, deadline=None):
    """(account, version, deadline, signature) for CustomerVoice.acceptRulebook, signed by `key`."""
    current_version, current_hash = engine.rulebook()
    message = {
        "account": account or key.address,
        "version": current_version if version is None else version,
        "rulebook": current_hash if rulebook is None else rulebook,
        "deadline": chain.time() + 3_600 if deadline is None else deadline,
    }
    signature = sign_typed(key.key, chain.id, voice.address, "AcceptRulebook", message)
    return message["account"], message["version"], message["deadline"], signature


@pytest.fixture
def newcomer(suite, team):
    """The outsider, made a MARKETING participant who has not accepted the rulebook."""
    suite.grantRole(suite.MARKETING_ROLE(), team.outsider, {"from": team.admin})
    return team.outsider


@pytest.fixture
def signer(suite, team):
    """A MARKETING participant known only by its key: it accepts by signature."""
    key = Account.create()
    suite.grantRole(suite.MARKETING_ROLE(), key.address, {"from": team.admin})
    return key


def test_participant_cannot_open_a_journey_before_accepting_the_rulebook(suite, newcomer, kit):
    with reverts_with("RulebookNotAccepted") as info:
        kit.open(sender=newcomer)
    assert revert_args(info) == fmt(newcomer, 0, 1)
    suite.acceptRulebook({"from": newcomer})
    jid, _, tx = kit.open(sender=newcomer)
    assert tx.events["JourneyOpened"]["opener"] == newcomer
    assert suite.journey(jid)[2] == 1  # Open


def test_accepting_by_transaction_records_the_version_in_force(suite, newcomer):
    participant_id, accepted = suite.participant(newcomer)
    assert participant_id != 0
    assert accepted == 0
    tx = suite.acceptRulebook({"from": newcomer})
    assert tx.events["RulebookAccepted"]["account"] == newcomer
    assert tx.events["RulebookAccepted"]["version"] == 1
    assert tuple(suite.participant(newcomer)) == (participant_id, 1)
    assert suite.checkActor(newcomer, MARKETING) == participant_id


@pytest.mark.smoke
def test_accepting_by_signature_relayed_by_anyone(suite, voice, signer, team):
    with reverts_with("RulebookNotAccepted"):
        suite.checkActor(signer.address, MARKETING)
    tx = voice.acceptRulebook(*acceptance(suite, voice, signer), {"from": team.outsider})
    assert tx.events["RulebookAccepted"]["account"] == signer.address
    assert tx.events["RulebookAccepted"]["version"] == 1
    participant_id, accepted = suite.participant(signer.address)
    assert accepted == 1
    assert suite.checkActor(signer.address, MARKETING) == participant_id


def test_signature_by_another_key_is_refused_as_wrong_signer(suite, voice, signer, team):
    impostor = Account.create()
    args = acceptance(suite, voice, impostor, account=signer.address)
    with reverts_with("WrongSigner") as info:
        voice.acceptRulebook(*args, {"from": team.outsider})
    assert revert_args(info) == fmt(signer.address, impostor.address)
    assert suite.participant(signer.address)[1] == 0


def test_signature_over_another_rulebook_is_refused_as_wrong_signer(suite, voice, signer, team):
    args = acceptance(suite, voice, signer, rulebook=b"\x99" * 32)
    with reverts_with("WrongSigner"):
        voice.acceptRulebook(*args, {"from": team.outsider})
    assert suite.participant(signer.address)[1] == 0


def test_expired_signature_is_refused(suite, voice, signer, team):
    deadline = chain.time() - 60
    args = acceptance(suite, voice, signer, deadline=deadline)
    with reverts_with("SignatureExpired") as info:
        voice.acceptRulebook(*args, {"from": team.outsider})
    assert revert_args(info) == fmt(deadline)
    assert suite.participant(signer.address)[1] == 0


def test_signature_for_a_stale_version_is_refused(suite, voice, signer, team):
    suite.publishRulebook(RULEBOOK_V2, {"from": team.admin})
    args = acceptance(suite, voice, signer, version=1)
    with reverts_with("StaleRulebook") as info:
        voice.acceptRulebook(*args, {"from": team.outsider})
    assert revert_args(info) == fmt(1, 2)
    assert suite.participant(signer.address)[1] == 0


def test_signature_made_for_the_previous_version_is_refused_as_stale(suite, voice, signer, team):
    """A participant signed version 1 (with version 1's text); the relay comes after version 2."""
    args = acceptance(suite, voice, signer)
    suite.publishRulebook(RULEBOOK_V2, {"from": team.admin})
    with reverts_with("StaleRulebook") as info:
        voice.acceptRulebook(*args, {"from": team.outsider})
    assert revert_args(info) == fmt(1, 2)
    assert suite.participant(signer.address)[1] == 0


def test_only_admin_publishes_a_rulebook(suite, team):
    with reverts_with("AccessControlUnauthorizedAccount"):
        suite.publishRulebook(RULEBOOK_V2, {"from": team.marketing})
    assert rulebook_in_force(suite) == (1, RULEBOOK)


def test_new_rulebook_version_must_be_accepted_again(suite, team, kit):
    tx = suite.publishRulebook(RULEBOOK_V2, {"from": team.admin})
    assert tx.events["RulebookPublished"]["version"] == 2
    assert rulebook_in_force(suite) == (2, RULEBOOK_V2)
    with reverts_with("RulebookNotAccepted") as info:
        kit.open(sender=team.marketing)
    assert revert_args(info) == fmt(team.marketing, 1, 2)
    tx = suite.acceptRulebook({"from": team.marketing})
    assert tx.events["RulebookAccepted"]["version"] == 2
    assert suite.participant(team.marketing)[1] == 2
    jid, _, _ = kit.open(sender=team.marketing)
    assert suite.journey(jid)[2] == 1


def test_non_participant_cannot_accept_by_transaction(suite, team):
    with reverts_with("NotParticipant") as info:
        suite.acceptRulebook({"from": team.outsider})
    assert revert_args(info) == fmt(team.outsider)
    assert tuple(suite.participant(team.outsider)) == (0, 0)


def test_non_participant_cannot_accept_by_signature(suite, voice, team):
    stranger = Account.create()
    with reverts_with("NotParticipant") as info:
        voice.acceptRulebook(*acceptance(suite, voice, stranger), {"from": team.outsider})
    assert revert_args(info) == fmt(stranger.address)
    assert tuple(suite.participant(stranger.address)) == (0, 0)


def test_empty_rulebook_is_refused(suite, team):
    with reverts_with("EmptyRulebook"):
        suite.publishRulebook(b"\x00" * 32, {"from": team.admin})
    assert rulebook_in_force(suite) == (1, RULEBOOK)
    # the refused version did not take effect: participants still act under version 1
    suite.openJourney(journey_id("still-v1"), 1, b"\x01" * 16, "0x" + "00" * 20, {"from": team.marketing})


def test_every_action_waits_for_the_new_version_to_be_accepted(suite, registry, team, kit):
    jid, customer, _ = kit.open()
    suite.publishRulebook(RULEBOOK_V2, {"from": team.admin})
    with reverts_with("RulebookNotAccepted") as info:
        kit.complete(jid, team.marketing)
    assert revert_args(info) == fmt(team.marketing, 1, 2)
    with reverts_with("RulebookNotAccepted") as info:
        kit.attest_identity(customer)
    assert revert_args(info) == fmt(team.verifier, 1, 2)
    assert suite.journey(jid)[1] == 0
    suite.acceptRulebook({"from": team.marketing})
    kit.complete(jid, team.marketing)
    assert suite.journey(jid)[1] == 1
