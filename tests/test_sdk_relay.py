"""The SDK's signed actions: participants sign the calls they would have made, and a relayer with
no role sends them, from many participants and journeys, in one transaction through the step
relay; a refused action comes back with its rule's sentence and the others are applied."""

from __future__ import annotations

import pytest
from conftest import cast_network

from journeychain.accounts import dev_account
from journeychain.encoding import customer_commitment, journey_id, new_salt, profile_hash
from journeychain.errors import RuleError

ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
def crew(journey_chain):
    return cast_network(journey_chain)


def opening(client, reference: str):
    commitment = customer_commitment(dev_account(9).address, profile_hash(reference, new_salt()))
    jid = journey_id(reference)
    call = client.engine.functions.openJourney(jid, 1, commitment, ZERO, dev_account(6).address)
    return jid, client.relay.sign(call)


def test_a_relayer_without_a_role_sends_the_steps_its_participants_signed(crew):
    marketing, sales, rival, relayer = crew[1], crew[2], crew[8], crew[7]
    j1, open1 = opening(marketing, "SDK-RELAY-1")
    j2, open2 = opening(marketing, "SDK-RELAY-2")
    result = relayer.relay.batch().add(open1).add(open2).send()
    assert result.applied == [0, 1] and result.refused == []
    engine = marketing.engine.functions
    assert [engine.currentHead(j).call()[1] != b"\x00" * 20 for j in (j1, j2)] == [True, True]

    handed = [marketing.relay.sign(engine.completeStep(j, [], [], 0, sales.address)) for j in (j1, j2)]
    result = relayer.relay.batch().add(handed[0]).add(handed[1]).send()
    assert result.applied == [0, 1]
    assert [engine.journey(j).call()[1] for j in (j1, j2)] == [1, 1]

    sales_org = engine.participant(sales.address).call()[2]
    accepted = sales.relay.sign(engine.completeStep(j1, [], [], sales_org, ZERO))
    not_theirs = rival.relay.sign(engine.completeStep(j2, [], [], sales_org, ZERO))
    result = relayer.relay.batch().add(not_theirs).add(accepted).send()
    assert result.applied == [1]
    ((index, refusal),) = result.refused
    assert index == 0 and isinstance(refusal, RuleError) and refusal.error == "NotAssignee"
    assert [engine.journey(j).call()[1] for j in (j1, j2)] == [2, 1]

    # the same signature again: the journey moved on, so it is stale
    result = relayer.relay.batch().add(accepted).send()
    assert [r.error for _, r in result.refused] == ["StaleAction"]
    assert "(it is at step 2 now): applied already, or signed too early" in str(result.refused[0][1])
    # a funding signed with a one-time nonce is applied once; the same signature again is a replay
    funder = crew[6]
    funder._send(funder.token.functions.approve(funder.engine.address, 10))
    funding = funder.relay.sign(engine.fund(j1, 10))
    assert relayer.relay.batch().add(funding).send().applied == [0]
    ((_, replay),) = relayer.relay.batch().add(funding).send().refused
    assert replay.error == "NonceUsed" and "spent one-time nonce" in str(replay)


def test_a_signed_completion_expires_at_its_step_deadline_so_a_relayer_cannot_land_it_late(crew):
    marketing, sales, relayer = crew[1], crew[2], crew[7]
    jid, signed_open = opening(marketing, "SDK-RELAY-4")
    relayer.relay.batch().add(signed_open).send()
    engine = marketing.engine.functions
    relayer.relay.batch().add(marketing.relay.sign(engine.completeStep(jid, [], [], 0, sales.address))).send()
    step_deadline = engine.journey(jid).call()[4]
    sales_org = engine.participant(sales.address).call()[2]
    call = engine.completeStep(jid, [], [], sales_org, ZERO)
    # a day ahead: the signature's default lifetime (an hour) applies
    assert sales.relay.sign(call)[4] < step_deadline
    # half an hour before the deadline: the signature expires with the step
    chain = marketing.chain
    chain.advance(step_deadline - 1800 - chain.now())
    accepted = sales.relay.sign(call)
    assert accepted[4] == step_deadline
    chain.advance(step_deadline + 1 - chain.now())
    ((_, refusal),) = relayer.relay.batch().add(accepted).send().refused
    assert refusal.error == "ActionExpired"
    assert engine.journey(jid).call()[1] == 1  # not completed: not late on the signer's behalf


def test_an_atomic_batch_with_a_refused_action_is_refused_before_it_is_sent(crew):
    marketing, rival, relayer = crew[1], crew[8], crew[7]
    jid, signed_open = opening(marketing, "SDK-RELAY-3")
    relayer.relay.batch().add(signed_open).send()
    engine = marketing.engine.functions
    wrong = rival.relay.sign(engine.completeStep(jid, [], [], 0, rival.address))
    with pytest.raises(RuleError) as info:
        relayer.relay.batch().add(wrong).send(atomic=True)
    assert info.value.error == "MissingRole"
    assert engine.journey(jid).call()[1] == 0


def test_an_action_digest_is_the_eip712_hash_and_the_compact_signature_recovers_its_signer():
    from eth_account import Account
    from eth_account.messages import _hash_eip191_message, encode_typed_data

    from journeychain.signing import (
        ACTION_TYPE,
        RELAY_DOMAIN_NAME,
        RELAY_DOMAIN_VERSION,
        action_digest,
        relay_action,
        sign_action,
    )

    key = dev_account(3)
    relay = "0x" + "ab" * 20
    action = relay_action(key.address, "0x" + "cd" * 20, b"\x01\x02", head=b"\x07" * 20, nonce=9, deadline=77)
    names = ("signer", "target", "head", "nonce", "deadline", "data")
    typed = encode_typed_data(
        domain_data={
            "name": RELAY_DOMAIN_NAME,
            "version": RELAY_DOMAIN_VERSION,
            "chainId": 31337,
            "verifyingContract": relay,
        },
        message_types={"Action": ACTION_TYPE},
        message_data=dict(zip(names, action[:6], strict=True)),
    )
    digest = action_digest(31337, relay, action)
    assert digest == _hash_eip191_message(typed)
    compact = sign_action(key.key, 31337, relay, action)
    full = sign_action(key.key, 31337, relay, action, compact=False)
    assert (len(compact), len(full)) == (64, 65)
    assert Account._recover_hash(digest, signature=full) == key.address
    r, vs = compact[:32], int.from_bytes(compact[32:], "big")
    v, s = 27 + (vs >> 255), vs & ((1 << 255) - 1)
    assert full == r + s.to_bytes(32, "big") + bytes([v])
