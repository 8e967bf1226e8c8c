"""ERC-1271: a customer (or a participant) that is a contract wallet signs through its wallet; the
voice asks the wallet, and a wallet that refuses, or a key the wallet does not accept, is refused."""

from dataclasses import dataclass, field

import pytest
from brownie import SignerWallet, accounts, chain
from conftest import DAY, assert_error_args, reverts_with
from eth_account import Account

from journeychain.encoding import customer_commitment, customer_subject, new_salt, profile_hash
from journeychain.signing import customer_signature, sign_typed


@dataclass
class WalletCustomer:
    """A customer whose signer is a contract wallet owned by `key`."""

    wallet: object
    key: object = field(default_factory=Account.create)
    salt: bytes = field(default_factory=new_salt)
    journey: bytes | None = None  # set by Kit.open

    @property
    def address(self) -> str:
        return self.wallet.address

    @property
    def profile(self) -> bytes:
        return profile_hash("Grace Hopper", self.salt)

    @property
    def commitment(self) -> bytes:
        return customer_commitment(self.address, self.profile)

    @property
    def subject(self) -> bytes:
        return customer_subject(self.journey, self.commitment)


@pytest.fixture
def walleted(team):
    key = Account.create()
    wallet = SignerWallet.deploy(key.address, {"from": team.admin})
    return WalletCustomer(wallet, key)


def _confirmation(kit, jid, customer, key):
    nonce = kit.voice.nonceOf(jid)
    deadline = chain.time() + DAY
    head = bytes(kit.engine.journeyCommitments(jid)[1])
    message = {
        "journeyId": jid,
        "playbookId": kit.playbook_id,
        "history": head,
        "nonce": nonce,
        "deadline": deadline,
    }
    signature = sign_typed(key.key, chain.id, kit.voice.address, "ConfirmValue", message)
    return customer_signature(customer.address, customer.profile, head, nonce, deadline, signature)


def test_a_contract_wallet_customer_confirms_value(kit, engine, team, walleted):
    jid, _ = kit.to_customer_step(walleted)
    sig = _confirmation(kit, jid, walleted, walleted.key)
    tx = engine.confirmValue(jid, kit.history(jid), sig, {"from": team.outsider})
    assert tx.events["ValueConfirmed"]["customer"] == walleted.address


def test_a_key_the_wallet_does_not_accept_is_refused(kit, engine, team, walleted):
    jid, _ = kit.to_customer_step(walleted)
    sig = _confirmation(kit, jid, walleted, Account.create())
    with reverts_with("BadSignature") as info:
        engine.confirmValue(jid, kit.history(jid), sig, {"from": team.outsider})
    assert_error_args(info, walleted.address)
    assert engine.journey(jid)[2] == 1


def test_a_wallet_that_refuses_is_refused(kit, engine, team, walleted):
    jid, _ = kit.to_customer_step(walleted)
    owner = accounts.add(walleted.key.key)
    team.admin.transfer(owner, 10**17)
    walleted.wallet.setAccepting(False, {"from": owner})
    sig = _confirmation(kit, jid, walleted, walleted.key)
    with reverts_with("BadSignature"):
        engine.confirmValue(jid, kit.history(jid), sig, {"from": team.outsider})
    walleted.wallet.setAccepting(True, {"from": owner})
    engine.confirmValue(jid, kit.history(jid), sig, {"from": team.outsider})
    assert engine.journey(jid)[2] == 3


def test_a_contract_wallet_participant_accepts_the_rulebook_by_signature(kit, engine, team, walleted):
    directory = kit.directory
    directory.addMember(1, walleted.address, {"from": team.admin})
    version, digest = directory.rulebook()
    deadline = chain.time() + DAY
    message = {
        "account": walleted.address,
        "version": version,
        "rulebook": bytes(digest),
        "deadline": deadline,
    }
    signature = sign_typed(walleted.key.key, chain.id, kit.voice.address, "AcceptRulebook", message)
    with reverts_with("BadSignature"):
        bad = sign_typed(Account.create().key, chain.id, kit.voice.address, "AcceptRulebook", message)
        kit.voice.acceptRulebook(walleted.address, version, deadline, bad, {"from": team.outsider})
    kit.voice.acceptRulebook(walleted.address, version, deadline, signature, {"from": team.outsider})
    assert engine.participant(walleted.address)[1] == version
