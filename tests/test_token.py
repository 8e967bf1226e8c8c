"""The incentive token: an ERC-20 with EIP-2612 permit; only the minter role mints."""

from brownie import chain
from conftest import DAY, new_local_account, reverts_with, sign_permit

AMOUNT = 5_000 * 10**18


def test_minter_mints_to_any_account(token, team):
    supply = token.totalSupply()
    tx = token.mint(team.outsider, AMOUNT, {"from": team.admin})
    assert token.balanceOf(team.outsider) == AMOUNT
    assert token.totalSupply() == supply + AMOUNT
    event = tx.events["Transfer"]
    assert event["from"] == "0x" + "00" * 20
    assert event["to"] == team.outsider
    assert event["value"] == AMOUNT


def test_mint_refused_without_minter_role(token, team):
    supply = token.totalSupply()
    with reverts_with("AccessControlUnauthorizedAccount") as info:
        token.mint(team.outsider, AMOUNT, {"from": team.outsider})
    assert str(team.outsider).lower() in info.value.revert_msg.lower()
    assert token.balanceOf(team.outsider) == 0
    assert token.totalSupply() == supply


def test_minter_role_granted_mints_and_revoked_refused(token, team):
    with reverts_with("AccessControlUnauthorizedAccount"):
        token.mint(team.funder, AMOUNT, {"from": team.funder})
    token.grantRole(token.MINTER_ROLE(), team.funder, {"from": team.admin})
    token.mint(team.outsider, AMOUNT, {"from": team.funder})
    assert token.balanceOf(team.outsider) == AMOUNT
    token.revokeRole(token.MINTER_ROLE(), team.funder, {"from": team.admin})
    with reverts_with("AccessControlUnauthorizedAccount"):
        token.mint(team.outsider, AMOUNT, {"from": team.funder})
    assert token.balanceOf(team.outsider) == AMOUNT


def test_permit_sets_allowance_relayed_by_anyone(token, team):
    owner = new_local_account(team)
    deadline = chain.time() + DAY
    v, r, s = sign_permit(token, owner, team.vendor, AMOUNT, deadline)
    tx = token.permit(owner, team.vendor, AMOUNT, deadline, v, r, s, {"from": team.outsider})
    assert token.allowance(owner, team.vendor) == AMOUNT
    assert token.nonces(owner) == 1
    assert tx.events["Approval"]["owner"] == owner
    assert tx.events["Approval"]["spender"] == team.vendor
    assert tx.events["Approval"]["value"] == AMOUNT


def test_permit_refused_once_expired(token, team):
    owner = new_local_account(team)
    deadline = chain.time() + 60
    v, r, s = sign_permit(token, owner, team.vendor, AMOUNT, deadline)
    chain.sleep(120)
    chain.mine()
    with reverts_with("ERC2612ExpiredSignature"):
        token.permit(owner, team.vendor, AMOUNT, deadline, v, r, s, {"from": team.outsider})
    assert token.allowance(owner, team.vendor) == 0
    assert token.nonces(owner) == 0


def test_permit_refused_when_signed_by_someone_else(token, team):
    owner, forger = new_local_account(team), new_local_account(team)
    deadline = chain.time() + DAY
    v, r, s = sign_permit(token, forger, team.vendor, AMOUNT, deadline, nonce=0)
    with reverts_with("ERC2612InvalidSigner"):
        token.permit(owner, team.vendor, AMOUNT, deadline, v, r, s, {"from": team.outsider})
    assert token.allowance(owner, team.vendor) == 0


def test_permit_refused_when_replayed(token, team):
    owner = new_local_account(team)
    deadline = chain.time() + DAY
    v, r, s = sign_permit(token, owner, team.vendor, AMOUNT, deadline)
    token.permit(owner, team.vendor, AMOUNT, deadline, v, r, s, {"from": team.outsider})
    token.approve(team.vendor, 0, {"from": owner})
    with reverts_with("ERC2612InvalidSigner"):
        token.permit(owner, team.vendor, AMOUNT, deadline, v, r, s, {"from": team.outsider})
    assert token.allowance(owner, team.vendor) == 0
    assert token.nonces(owner) == 1


def test_permit_for_another_chain_refused(token, team):
    owner = new_local_account(team)
    deadline = chain.time() + DAY
    v, r, s = sign_permit(token, owner, team.vendor, AMOUNT, deadline, chain_id=chain.id + 1)
    with reverts_with("ERC2612InvalidSigner"):
        token.permit(owner, team.vendor, AMOUNT, deadline, v, r, s, {"from": team.outsider})
    assert token.allowance(owner, team.vendor) == 0
