"""Signed steps, relayed in batches: participants sign the calls they would have made (EIP-712,
under the step relay's domain), and anyone relays many of them, from many participants and many
journeys, in one transaction; each is applied with exactly the checks it would have had if its
signer had sent it, and a refused one is skipped with its reason (or, atomic, reverts the batch)."""

import brownie
import pytest
from brownie import SignerWallet, StepRelay, chain
from conftest import DAY, HOUR, POOL, ZERO, reverts_with
from eth_abi import decode
from eth_account import Account
from eth_utils import keccak

from journeychain.accounts import dev_account
from journeychain.encoding import short_name
from journeychain.signing import permit_signature, relay_action, sign_action, sign_typed, with_signature

LEAD = 1  # the lead_accepted step


@pytest.fixture(scope="module")
def relay(registry):
    return StepRelay.at(registry.trustedForwarder())


@pytest.fixture(scope="module")
def keys(team):
    """The private key of each team account (anvil's development accounts)."""
    return {a.address: dev_account(i).key for i, a in enumerate(brownie.accounts[:10])}


def state(engine, jid):
    step, head = engine.currentHead(jid)
    return step, bytes(head)


def head_of(engine, jid):
    """The journey's rolling hash, which a state-bound action is signed over."""
    return state(engine, jid)[1]


def signed(relay, key, signer, target, data, *, at=None, nonce=0, deadline=None, chain_id=None, compact=True):
    """An action of `signer` calling `target` with `data`, signed with `key`: bound to the
    journey's rolling hash `at` when `nonce` is 0."""
    head = at or b"\x00" * 20
    action = relay_action(
        str(signer),
        str(target),
        bytes.fromhex(data[2:]) if isinstance(data, str) else data,
        head=head,
        nonce=nonce,
        deadline=deadline if deadline is not None else chain.time() + DAY,
    )
    return action, sign_action(key, chain_id or chain.id, relay.address, action, compact=compact)


def completion(relay, keys, engine, jid, sender, assign=ZERO, org=0, fields=(), attesters=()):
    data = engine.completeStep.encode_input(jid, list(fields), list(attesters), org, assign)
    return signed(relay, keys[str(sender)], sender, engine, data, at=head_of(engine, jid))


def send(relay, pairs, sender, atomic=False):
    actions = [with_signature(action, signature) for action, signature in pairs]
    return relay.relay(actions, atomic, {"from": sender})


def lead(kit, team, assignee):
    """A journey whose lead Marketing handed to `assignee`."""
    jid, _, _ = kit.open()
    kit.complete(jid, team.marketing, assign=assignee)
    return jid


def refusal(tx, index=0):
    """The error name and arguments of the `index`-th ActionRefused in `tx`."""
    event = tx.events["ActionRefused"][index]
    return event["index"], bytes(event["reason"])


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


STALE = selector("StaleAction(bytes32,bytes20,uint8,bytes20)")
NOT_ASSIGNEE = selector("NotAssignee(bytes32,uint8,address,address)")
BAD_SIGNATURE = selector("BadSignature(address)")
EXPIRED = selector("ActionExpired(uint256)")
NONCE_USED = selector("NonceUsed(address,uint64)")
NONCE_REQUIRED = selector("NonceRequired(bytes4)")
MISSING_ROLE = selector("MissingRole(address,bytes32)")


def test_a_batch_of_completions_signed_by_distinct_owners_applies_each(kit, engine, relay, keys, team):
    j1, j2 = lead(kit, team, team.sales), lead(kit, team, team.sales2)
    j3, _, _ = kit.open()
    pairs = [
        completion(relay, keys, engine, j1, team.sales, org=2),
        completion(relay, keys, engine, j2, team.sales2, org=2),
        completion(relay, keys, engine, j3, team.marketing, assign=team.sales),
    ]
    tx = send(relay, pairs, team.outsider)
    by = {bytes(e["journeyId"]): e["by"] for e in tx.events["StepCompleted"]}
    assert by == {bytes(j1): team.sales, bytes(j2): team.sales2, bytes(j3): team.marketing}
    assert [engine.journey(j)[1] for j in (j1, j2, j3)] == [LEAD + 1, LEAD + 1, LEAD]
    assert tx.events["BatchRelayed"]["applied"] == 3 and tx.return_value == 0
    assert "ActionRefused" not in tx.events


def test_a_relayed_signature_cannot_be_replayed(kit, engine, relay, keys, team):
    jid = lead(kit, team, team.sales)
    pair = completion(relay, keys, engine, jid, team.sales, org=2)
    send(relay, [pair], team.outsider)
    after = state(engine, jid)
    tx = send(relay, [pair], team.outsider)
    index, reason = refusal(tx)
    assert reason[:4] == STALE and index == 0
    assert state(engine, jid) == after


def test_a_relayed_opening_cannot_be_replayed(kit, engine, relay, keys, team):
    jid = b"\x42" * 32
    data = engine.openJourney.encode_input(jid, 1, b"\x07" * 16, ZERO, team.funder)
    pair = signed(relay, keys[str(team.marketing)], team.marketing, engine, data)
    tx = send(relay, [pair, pair], team.outsider)
    assert tx.events["JourneyOpened"]["opener"] == team.marketing
    assert refusal(tx)[0] == 1 and refusal(tx)[1][:4] == selector("JourneyExists(bytes32)")
    # an opening signed over another state is stale
    pair = signed(relay, keys[str(team.marketing)], team.marketing, engine, data, at=b"\x01" * 20)
    assert refusal(send(relay, [pair], team.outsider))[1][:4] == STALE


def test_a_65_byte_signature_is_accepted_as_well(kit, engine, relay, keys, team):
    jid = lead(kit, team, team.sales)
    data = bytes.fromhex(engine.completeStep.encode_input(jid, [], [], 2, ZERO)[2:])
    head = head_of(engine, jid)
    action = relay_action(team.sales.address, engine.address, data, head=head, deadline=chain.time() + DAY)
    signature = sign_action(keys[str(team.sales)], chain.id, relay.address, action, compact=False)
    assert len(signature) == 65
    tx = relay.relay([with_signature(action, signature)], False, {"from": team.outsider})
    assert tx.events["StepCompleted"]["by"] == team.sales


def test_a_signature_over_another_or_an_earlier_head_is_refused(kit, engine, relay, keys, team):
    jid, _, _ = kit.open()
    opened = head_of(engine, jid)
    kit.complete(jid, team.marketing, assign=team.sales)
    step, head = state(engine, jid)
    data = engine.completeStep.encode_input(jid, [], [], 2, ZERO)
    key = keys[str(team.sales)]
    other_head = signed(relay, key, team.sales, engine, data, at=b"\x01" * 20)
    # the head the journey had a step earlier: the rolling hash names the step it was taken at
    earlier = signed(relay, key, team.sales, engine, data, at=opened)
    tx = send(relay, [other_head, earlier], team.outsider)
    assert [refusal(tx, i)[1][:4] for i in (0, 1)] == [STALE, STALE]
    args = decode(["bytes32", "bytes20", "uint8", "bytes20"], refusal(tx, 1)[1][4:])
    assert (bytes(args[1]), args[2], bytes(args[3])) == (opened, step, head)
    assert state(engine, jid) == (step, head)


def test_a_non_owner_signing_a_step_is_refused_by_the_engine(kit, engine, relay, keys, team):
    jid = lead(kit, team, team.sales)
    tx = send(relay, [completion(relay, keys, engine, jid, team.sales2, org=2)], team.outsider)
    _, reason = refusal(tx)
    assert reason[:4] == NOT_ASSIGNEE
    assert (
        decode(["bytes32", "uint8", "address", "address"], reason[4:])[2].lower()
        == team.sales2.address.lower()
    )
    assert engine.journey(jid)[1] == LEAD


def test_a_key_that_is_not_the_signers_is_refused(kit, engine, relay, keys, team):
    jid = lead(kit, team, team.sales)
    data = engine.completeStep.encode_input(jid, [], [], 2, ZERO)
    forged = signed(relay, keys[str(team.sales2)], team.sales, engine, data, at=head_of(engine, jid))
    tx = send(relay, [forged], team.outsider)
    assert refusal(tx)[1][:4] == BAD_SIGNATURE
    assert engine.journey(jid)[1] == LEAD


def test_a_signature_for_another_chain_is_refused(kit, engine, relay, keys, team):
    jid = lead(kit, team, team.sales)
    data = engine.completeStep.encode_input(jid, [], [], 2, ZERO)
    pair = signed(
        relay, keys[str(team.sales)], team.sales, engine, data, at=head_of(engine, jid), chain_id=chain.id + 1
    )
    tx = send(relay, [pair], team.outsider)
    assert refusal(tx)[1][:4] == BAD_SIGNATURE


def test_an_expired_action_is_refused(kit, engine, relay, keys, team):
    jid = lead(kit, team, team.sales)
    data = engine.completeStep.encode_input(jid, [], [], 2, ZERO)
    deadline = chain.time() + HOUR
    pair = signed(
        relay, keys[str(team.sales)], team.sales, engine, data, at=head_of(engine, jid), deadline=deadline
    )
    chain.sleep(2 * HOUR)
    chain.mine()
    tx = send(relay, [pair], team.outsider)
    _, reason = refusal(tx)
    assert reason[:4] == EXPIRED and decode(["uint256"], reason[4:])[0] == deadline
    assert engine.journey(jid)[1] == LEAD


def test_a_refused_action_is_skipped_with_its_reason_and_the_others_applied(kit, engine, relay, keys, team):
    j1, j2, j3 = (lead(kit, team, team.sales) for _ in range(3))
    pairs = [
        completion(relay, keys, engine, j1, team.sales, org=2),
        completion(relay, keys, engine, j2, team.sales2, org=2),  # not its assignee
        completion(relay, keys, engine, j3, team.sales, org=2),
    ]
    tx = send(relay, pairs, team.outsider)
    assert tx.return_value == 1
    event = tx.events["ActionRefused"][0]
    assert event["index"] == 1 and event["signer"] == team.sales2 and bytes(event["journeyId"]) == bytes(j2)
    assert bytes(event["reason"])[:4] == NOT_ASSIGNEE
    assert [engine.journey(j)[1] for j in (j1, j2, j3)] == [LEAD + 1, LEAD, LEAD + 1]
    assert (tx.events["BatchRelayed"]["applied"], tx.events["BatchRelayed"]["refused"]) == (2, 1)


def test_an_atomic_batch_reverts_all_on_one_refusal(kit, engine, relay, keys, team):
    j1, j2 = lead(kit, team, team.sales), lead(kit, team, team.sales)
    pairs = [
        completion(relay, keys, engine, j1, team.sales, org=2),
        completion(relay, keys, engine, j2, team.sales2, org=2),
    ]
    with reverts_with("NotAssignee"):
        send(relay, pairs, team.outsider, atomic=True)
    assert [engine.journey(j)[1] for j in (j1, j2)] == [LEAD, LEAD]
    assert send(relay, pairs[:1], team.outsider, atomic=True).events["BatchRelayed"]["applied"] == 1


def test_only_the_relay_can_append_a_sender_the_engine_honours(kit, engine, relay, team):
    jid = lead(kit, team, team.sales)
    data = engine.completeStep.encode_input(jid, [], [], 2, ZERO) + team.sales.address[2:].lower()
    with reverts_with("MissingRole"):
        team.outsider.transfer(engine, 0, data=data)
    assert engine.isTrustedForwarder(relay) and not engine.isTrustedForwarder(team.outsider)
    assert engine.participant(relay)[0] == 0  # the relay holds no role


def test_an_unsigned_action_acts_as_the_relayer_itself(kit, engine, relay, team):
    jid = lead(kit, team, team.sales)
    data = bytes.fromhex(engine.completeStep.encode_input(jid, [], [], 2, ZERO)[2:])
    own = relay_action(team.outsider.address, engine.address, data, deadline=0)
    tx = relay.relay([own], False, {"from": team.outsider})
    reason = bytes(tx.events["ActionRefused"][0]["reason"])
    assert reason[:4] == MISSING_ROLE
    assert decode(["address", "bytes32"], reason[4:])[0].lower() == team.outsider.address.lower()
    mine = relay_action(team.sales.address, engine.address, data, deadline=chain.time() + DAY)
    tx = relay.relay([mine], False, {"from": team.sales})
    assert tx.events["StepCompleted"]["by"] == team.sales
    # an empty signature names its signer only when the signer sends the batch
    tx = relay.relay([mine], False, {"from": team.outsider})
    assert bytes(tx.events["ActionRefused"][0]["reason"])[:4] == BAD_SIGNATURE


def test_funding_needs_a_one_time_nonce_and_is_applied_once(kit, engine, relay, keys, team, token):
    jid = lead(kit, team, team.sales)
    data = engine.fund.encode_input(jid, POOL)
    key = keys[str(team.funder)]
    bound = signed(relay, key, team.funder, engine, data, at=head_of(engine, jid))
    tx = send(relay, [bound], team.outsider)
    assert refusal(tx)[1] == NONCE_REQUIRED + bytes.fromhex(engine.fund.signature[2:]).ljust(32, b"\x00")
    once = signed(relay, key, team.funder, engine, data, nonce=7)
    before = token.balanceOf(team.funder)
    tx = send(relay, [once], team.outsider)
    assert tx.events["PoolFunded"]["funder"] == team.funder and engine.journey(jid)[7] == POOL
    assert tx.events["NonceSpent"]["nonce"] == 7 and relay.nonceSpent(team.funder, 7)
    tx = send(relay, [once], team.outsider)
    assert refusal(tx)[1][:4] == NONCE_USED
    assert engine.journey(jid)[7] == POOL and token.balanceOf(team.funder) == before - POOL


def test_a_signed_funding_by_permit_moves_the_signers_tokens_without_a_prior_approval(
    kit, engine, relay, keys, team, token
):
    jid = lead(kit, team, team.sales)
    token.approve(engine, 0, {"from": team.funder})
    deadline = chain.time() + DAY
    v, r, s = permit_signature(
        keys[str(team.funder)],
        chain_id=chain.id,
        token=token.address,
        token_name=token.name(),
        owner=team.funder.address,
        spender=engine.address,
        value=POOL,
        nonce=token.nonces(team.funder),
        deadline=deadline,
    )
    data = engine.fundWithPermit.encode_input(jid, POOL, deadline, v, r, s)
    before = token.balanceOf(team.funder)
    tx = send(
        relay, [signed(relay, keys[str(team.funder)], team.funder, engine, data, nonce=11)], team.outsider
    )
    assert tx.events["PoolFunded"]["funder"] == team.funder and engine.journey(jid)[7] == POOL
    assert token.balanceOf(team.funder) == before - POOL and token.allowance(team.funder, engine) == 0


def test_a_refused_nonce_action_spends_its_nonce_and_a_cancelled_nonce_is_refused(
    kit, engine, relay, keys, team, token
):
    jid = lead(kit, team, team.sales)
    key = keys[str(team.funder)]
    # refused by the engine (no allowance yet): the nonce is spent all the same, so that the
    # funder's second signature, made after the refusal, is never applied beside the first
    token.approve(engine, 0, {"from": team.funder})
    first = signed(relay, key, team.funder, engine, engine.fund.encode_input(jid, POOL), nonce=8)
    tx = send(relay, [first], team.outsider)
    assert "ActionRefused" in tx.events and relay.nonceSpent(team.funder, 8)
    token.approve(engine, POOL, {"from": team.funder})
    again = signed(relay, key, team.funder, engine, engine.fund.encode_input(jid, POOL), nonce=10)
    tx = send(relay, [first, again], team.outsider)
    assert refusal(tx)[0] == 0 and refusal(tx)[1][:4] == NONCE_USED
    assert engine.journey(jid)[7] == POOL and tx.events["PoolFunded"]["amount"] == POOL
    relay.cancelNonce(9, {"from": team.funder})
    cancelled = signed(relay, key, team.funder, engine, engine.fund.encode_input(jid, POOL), nonce=9)
    assert refusal(send(relay, [cancelled], team.outsider))[1][:4] == NONCE_USED
    assert engine.journey(jid)[7] == POOL


def test_a_batch_inside_a_batch_is_refused_so_no_one_acts_as_another_through_multicall(
    kit, engine, relay, team
):
    """An outsider's own action calling the relay, whose own action calls the engine's multicall
    with an inner call suffixed by ADMIN's address: were the relay its own caller, the engine would
    see the relay as the sender (which multicall passes nothing on for) and ADMIN in the inner
    call. The relay refuses to target itself."""
    jid = lead(kit, team, team.sales)
    cancel = bytes.fromhex(engine.cancel.encode_input(jid)[2:]) + bytes.fromhex(team.admin.address[2:])
    multicall = bytes.fromhex(engine.multicall.encode_input([cancel])[2:])
    inner = relay_action(relay.address, engine.address, multicall, deadline=0)
    nested = bytes.fromhex(relay.relay.encode_input([inner], True)[2:])
    outer = relay_action(team.outsider.address, relay.address, nested, deadline=0)
    tx = relay.relay([outer], False, {"from": team.outsider})
    assert refusal(tx)[1][:4] == selector("RelayTarget()")
    assert engine.journey(jid)[2] == 1  # still open
    with brownie.reverts():
        relay.relay([outer], True, {"from": team.outsider})


def test_a_signed_flag_is_refused_once_recorded(kit, engine, relay, keys, team):
    jid = lead(kit, team, team.sales)
    chain.sleep(DAY + HOUR)
    chain.mine()
    pair = signed(
        relay,
        keys[str(team.outsider)],
        team.outsider,
        engine,
        engine.flagBreach.encode_input(jid),
        at=head_of(engine, jid),
    )
    tx = send(relay, [pair], team.marketing)
    assert bytes(tx.events["BreachRecorded"]["journeyId"]) == bytes(jid)
    assert refusal(send(relay, [pair], team.marketing))[1][:4] == selector("AlreadyBreached(bytes32,uint8)")
    assert engine.breachCount(team.sales) == 1


def test_a_signed_escalation_is_applied_once(kit, engine, relay, keys, team):
    jid = lead(kit, team, team.sales)
    chain.sleep(DAY + HOUR)
    chain.mine()
    before, previous = kit.escalation_proof(jid)
    data = engine.escalate.encode_input(jid, team.sales2, before, previous)
    pair = signed(relay, keys[str(team.marketing)], team.marketing, engine, data, nonce=1)
    tx = send(relay, [pair], team.outsider)
    assert tx.events["Escalated"]["to"] == team.sales2
    assert refusal(send(relay, [pair], team.outsider))[1][:4] == NONCE_USED


def test_a_contract_wallet_participant_signs_its_step(kit, engine, relay, directory, voice, team):
    owner = Account.create()
    wallet = SignerWallet.deploy(owner.address, {"from": team.admin})
    directory.addMember(2, wallet, {"from": team.admin})
    directory.grantRole(keccak(text="SALES"), wallet, {"from": team.admin})
    version, rulebook = directory.rulebook()
    deadline = chain.time() + DAY
    message = {
        "account": wallet.address,
        "version": version,
        "rulebook": bytes(rulebook),
        "deadline": deadline,
    }
    signature = sign_typed(owner.key, chain.id, voice.address, "AcceptRulebook", message)
    voice.acceptRulebook(wallet, version, deadline, signature, {"from": team.outsider})
    jid = lead(kit, team, wallet)
    data = engine.completeStep.encode_input(jid, [], [], 2, ZERO)
    # the wallet checks 65-byte signatures (OpenZeppelin's ECDSA.tryRecover over bytes)
    pair = signed(relay, owner.key, wallet, engine, data, at=head_of(engine, jid), compact=False)
    tx = send(relay, [pair], team.outsider)
    assert tx.events["StepCompleted"]["by"] == wallet
    # a key the wallet does not accept
    jid2 = lead(kit, team, wallet)
    data2 = engine.completeStep.encode_input(jid2, [], [], 2, ZERO)
    tx = send(
        relay,
        [signed(relay, Account.create().key, wallet, engine, data2, at=head_of(engine, jid2), compact=False)],
        team.outsider,
    )
    assert refusal(tx)[1][:4] == BAD_SIGNATURE


def test_the_registry_accepts_a_batch_of_signed_attestations(kit, engine, relay, registry, keys, team):
    key = keys[str(team.verifier)]
    customers = []
    pairs = []
    for nonce in range(1, 4):
        _, customer, _ = kit.open()
        customers.append(customer)
        data = registry.attest.encode_input(
            short_name("identity_verified"), customer.subject, 0, b"\x22" * 32
        )
        pairs.append(signed(relay, key, team.verifier, registry, data, nonce=nonce))
    tx = send(relay, pairs, team.outsider)
    assert [e["attester"] for e in tx.events["Attested"]] == [team.verifier] * 3
    for customer in customers:
        assert (
            registry.attestationState(short_name("identity_verified"), customer.subject, team.verifier)[0]
            == 1
        )
    assert refusal(send(relay, pairs[:1], team.outsider))[1][:4] == NONCE_USED
    # an attestation signed by an account without the verifier role is refused by the registry
    _, customer, _ = kit.open()
    data = registry.attest.encode_input(short_name("identity_verified"), customer.subject, 0, b"\x22" * 32)
    tx = send(
        relay, [signed(relay, keys[str(team.sales)], team.sales, registry, data, nonce=1)], team.outsider
    )
    assert refusal(tx)[1][:4] == MISSING_ROLE


def test_a_call_to_a_contract_that_does_not_trust_the_relay_acts_as_the_relay(relay, keys, team, token):
    data = token.transfer.encode_input(team.outsider, 1)
    pair = signed(relay, keys[str(team.funder)], team.funder, token, data, nonce=3)
    before = token.balanceOf(team.funder)
    reason = refusal(send(relay, [pair], team.outsider))[1]
    assert reason[:4] == selector("ERC20InsufficientBalance(address,uint256,uint256)")
    assert decode(["address"], reason[4:36])[0].lower() == relay.address.lower()
    assert token.balanceOf(team.funder) == before
