"""The rulebook: a participant acts only after accepting the version in force, by transaction or
by an EIP-712 signature that anyone relays through the customer voice. After a new version, those
who accepted the previous one may still act for the grace period (7 days), so that no deadline
runs out against a participant who had no chance to accept it; ADMIN's own actions need it too."""

import pytest
from brownie import chain
from conftest import DAY, ORGS, RULEBOOK, reverts_with
from eth_account import Account

from journeychain.encoding import journey_id
from journeychain.playbook import role_id
from journeychain.signing import sign_typed

MARKETING = role_id("MARKETING")
GRACE = 7 * DAY
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


def rulebook_in_force(directory) -> tuple[int, bytes]:
    version, rulebook = directory.rulebook()
    return int(version), bytes(rulebook)


def acceptance(directory, voice, key, account=None, version=None, rulebook=None, deadline=None):
    """(account, version, deadline, signature) for CustomerVoice.acceptRulebook, signed by `key`."""
    current_version, current_hash = directory.rulebook()
    message = {
        "account": account or key.address,
        "version": current_version if version is None else version,
        "rulebook": current_hash if rulebook is None else rulebook,
        "deadline": chain.time() + 3_600 if deadline is None else deadline,
    }
    signature = sign_typed(key.key, chain.id, voice.address, "AcceptRulebook", message)
    return message["account"], message["version"], message["deadline"], signature


def past_grace():
    chain.sleep(GRACE + 60)
    chain.mine()


@pytest.fixture
def newcomer(suite, team, directory):
    """The outsider, made a MARKETING participant who has not accepted the rulebook."""
    directory.addMember(ORGS["marketing"], team.outsider, {"from": team.admin})
    directory.grantRole(MARKETING, team.outsider, {"from": team.admin})
    return team.outsider


@pytest.fixture
def signer(suite, team, directory):
    """A MARKETING participant known only by its key: it accepts by signature."""
    key = Account.create()
    directory.addMember(ORGS["marketing"], key.address, {"from": team.admin})
    directory.grantRole(MARKETING, key.address, {"from": team.admin})
    return key


def test_participant_cannot_open_a_journey_before_accepting_the_rulebook(suite, newcomer, kit, directory):
    with reverts_with("RulebookNotAccepted") as info:
        kit.open(sender=newcomer)
    assert revert_args(info) == fmt(newcomer, 0, 1)
    directory.acceptRulebook({"from": newcomer})
    jid, _, tx = kit.open(sender=newcomer)
    assert tx.events["JourneyOpened"]["opener"] == newcomer
    assert suite.journey(jid)[2] == 1  # Open


def test_accepting_by_transaction_records_the_version_in_force(suite, newcomer, directory):
    participant_id, accepted, _ = suite.participant(newcomer)
    assert participant_id != 0
    assert accepted == 0
    tx = directory.acceptRulebook({"from": newcomer})
    assert tx.events["RulebookAccepted"]["account"] == newcomer
    assert tx.events["RulebookAccepted"]["version"] == 1
    assert tuple(suite.participant(newcomer))[:2] == (participant_id, 1)
    assert suite.checkActor(newcomer, MARKETING) == participant_id


@pytest.mark.smoke
def test_accepting_by_signature_relayed_by_anyone(suite, voice, signer, team, directory):
    with reverts_with("RulebookNotAccepted"):
        suite.checkActor(signer.address, MARKETING)
    tx = voice.acceptRulebook(*acceptance(directory, voice, signer), {"from": team.outsider})
    assert tx.events["RulebookAccepted"]["account"] == signer.address
    assert tx.events["RulebookAccepted"]["version"] == 1
    participant_id, accepted, _ = suite.participant(signer.address)
    assert accepted == 1
    assert suite.checkActor(signer.address, MARKETING) == participant_id


def test_signature_by_another_key_is_refused_as_a_bad_signature(suite, voice, signer, team, directory):
    impostor = Account.create()
    args = acceptance(directory, voice, impostor, account=signer.address)
    with reverts_with("BadSignature") as info:
        voice.acceptRulebook(*args, {"from": team.outsider})
    assert revert_args(info) == fmt(signer.address)
    assert suite.participant(signer.address)[1] == 0


def test_signature_over_another_rulebook_is_refused_as_a_bad_signature(suite, voice, signer, team, directory):
    args = acceptance(directory, voice, signer, rulebook=b"\x99" * 32)
    with reverts_with("BadSignature"):
        voice.acceptRulebook(*args, {"from": team.outsider})
    assert suite.participant(signer.address)[1] == 0


def test_expired_signature_is_refused(suite, voice, signer, team, directory):
    deadline = chain.time() - 60
    args = acceptance(directory, voice, signer, deadline=deadline)
    with reverts_with("SignatureExpired") as info:
        voice.acceptRulebook(*args, {"from": team.outsider})
    assert revert_args(info) == fmt(deadline)
    assert suite.participant(signer.address)[1] == 0


def test_signature_for_a_stale_version_is_refused(suite, voice, signer, team, directory):
    directory.publishRulebook(RULEBOOK_V2, {"from": team.admin})
    args = acceptance(directory, voice, signer, version=1)
    with reverts_with("StaleRulebook") as info:
        voice.acceptRulebook(*args, {"from": team.outsider})
    assert revert_args(info) == fmt(1, 2)
    assert suite.participant(signer.address)[1] == 0


def test_signature_made_for_the_previous_version_is_refused_as_stale(suite, voice, signer, team, directory):
    """A participant signed version 1 (with version 1's text); the relay comes after version 2."""
    args = acceptance(directory, voice, signer)
    directory.publishRulebook(RULEBOOK_V2, {"from": team.admin})
    with reverts_with("StaleRulebook") as info:
        voice.acceptRulebook(*args, {"from": team.outsider})
    assert revert_args(info) == fmt(1, 2)
    assert suite.participant(signer.address)[1] == 0


def test_only_admin_publishes_a_rulebook(suite, team, directory):
    with reverts_with("MissingRole"):
        directory.publishRulebook(RULEBOOK_V2, {"from": team.marketing})
    assert rulebook_in_force(directory) == (1, RULEBOOK)


def test_new_rulebook_version_must_be_accepted_again(suite, team, kit, directory):
    tx = directory.publishRulebook(RULEBOOK_V2, {"from": team.admin})
    assert tx.events["RulebookPublished"]["version"] == 2
    assert rulebook_in_force(directory) == (2, RULEBOOK_V2)
    kit.open(sender=team.marketing)  # within the grace period, version 1 still counts
    past_grace()
    with reverts_with("RulebookNotAccepted") as info:
        kit.open(sender=team.marketing)
    assert revert_args(info) == fmt(team.marketing, 1, 2)
    tx = directory.acceptRulebook({"from": team.marketing})
    assert tx.events["RulebookAccepted"]["version"] == 2
    assert suite.participant(team.marketing)[1] == 2
    jid, _, _ = kit.open(sender=team.marketing)
    assert suite.journey(jid)[2] == 1


def test_non_participant_cannot_accept_by_transaction(suite, team, directory):
    with reverts_with("NotParticipant") as info:
        directory.acceptRulebook({"from": team.outsider})
    assert revert_args(info) == fmt(team.outsider)
    assert tuple(suite.participant(team.outsider))[:2] == (0, 0)


def test_non_participant_cannot_accept_by_signature(suite, voice, team, directory):
    stranger = Account.create()
    with reverts_with("NotParticipant") as info:
        voice.acceptRulebook(*acceptance(directory, voice, stranger), {"from": team.outsider})
    assert revert_args(info) == fmt(stranger.address)
    assert tuple(suite.participant(stranger.address))[:2] == (0, 0)


def test_empty_rulebook_is_refused(suite, team, directory):
    with reverts_with("EmptyRulebook"):
        directory.publishRulebook(b"\x00" * 32, {"from": team.admin})
    assert rulebook_in_force(directory) == (1, RULEBOOK)
    # the refused version did not take effect: participants still act under version 1
    suite.openJourney(
        journey_id("still-v1"), 1, b"\x01" * 16, "0x" + "00" * 20, team.funder, {"from": team.marketing}
    )


def test_every_action_waits_for_the_new_version_to_be_accepted(suite, registry, team, kit, directory):
    jid, customer, _ = kit.open()
    directory.publishRulebook(RULEBOOK_V2, {"from": team.admin})
    past_grace()
    with reverts_with("RulebookNotAccepted") as info:
        kit.complete(jid, team.marketing)
    assert revert_args(info) == fmt(team.marketing, 1, 2)
    with reverts_with("RulebookNotAccepted") as info:
        kit.attest_identity(customer)
    assert revert_args(info) == fmt(team.verifier, 1, 2)
    assert suite.journey(jid)[1] == 0
    directory.acceptRulebook({"from": team.marketing})
    kit.complete(jid, team.marketing)
    assert suite.journey(jid)[1] == 1


def test_a_deadline_does_not_run_out_against_a_participant_before_it_could_accept(
    kit, engine, team, directory
):
    """A new version is published while the rep's lead is open: within the grace period the rep
    still accepts the lead on time under version 1."""
    jid, _, _ = kit.open()
    kit.complete(jid, team.marketing, assign=team.sales)
    directory.publishRulebook(RULEBOOK_V2, {"from": team.admin})
    chain.sleep(DAY - 3_600)
    chain.mine()
    tx = kit.complete(jid, team.sales)
    assert tx.events["StepCompleted"]["late"] is False


def test_a_participant_two_versions_behind_has_no_grace(kit, team, directory):
    directory.publishRulebook(RULEBOOK_V2, {"from": team.admin})
    directory.acceptRulebook({"from": team.admin})
    directory.publishRulebook(b"\x33" * 32, {"from": team.admin})
    with reverts_with("RulebookNotAccepted"):
        kit.open(sender=team.marketing)  # accepted version 1; version 3 is in force


def test_admins_own_actions_need_the_rulebook_in_force(team, directory):
    directory.publishRulebook(RULEBOOK_V2, {"from": team.admin})
    past_grace()
    with reverts_with("RulebookNotAccepted"):
        directory.grantRole(MARKETING, team.sales, {"from": team.admin})
    with reverts_with("RulebookNotAccepted"):
        directory.registerOrganisation(b"late".ljust(32, b"\x00"), 0, {"from": team.admin})
    directory.acceptRulebook({"from": team.admin})
    directory.registerOrganisation(b"late".ljust(32, b"\x00"), 0, {"from": team.admin})
