"""The customer signs on its own device: the operator writes a request (EIP-712 typed data), the
customer signs it with the journey's own key (derived from one secret the customer keeps) and the
operator relays the signature. The chain cannot link two journeys of one customer; a request
signed before a later step is stale; a signature by anyone else is refused before anything is
sent; a contract wallet customer signs under ERC-1271."""

from __future__ import annotations

import json

import pytest
from conftest import sdk_crew

from journeychain.chain import Chain
from journeychain.client import JourneyClient
from journeychain.customer import (
    CustomerRequest,
    CustomerSecret,
    describe,
    read_signed,
    recover_signer,
    sign_request,
    signed_document,
)
from journeychain.errors import ConfigError, SignatureError
from journeychain.vault import Vault

POOL = 1_000 * 10**18
PROFILE = "Ada Lovelace <ada@example.com>"
PLAYBOOK = {
    "name": "device",
    "version": 1,
    "options": {"commit_step": "lead"},
    "steps": [
        {"name": "lead", "role": "MARKETING", "sla": "1d", "share_bps": 4000},
        {"name": "delivered", "role": "VENDOR", "sla": "1d", "share_bps": 6000},
        {"name": "value", "role": "CUSTOMER", "sla": "30d"},
    ],
}


@pytest.fixture(scope="module")
def sdk(journey_chain: Chain) -> tuple[Chain, dict[str, JourneyClient]]:
    return journey_chain, sdk_crew(
        journey_chain, PLAYBOOK, {"marketing": 1, "vendor": 5, "funder": 7}, 10 * POOL
    )


@pytest.fixture(scope="module")
def secret() -> CustomerSecret:
    return CustomerSecret.create()


def open_for(act, secret: CustomerSecret, reference: str) -> dict[str, str]:
    """The customer joins (on its device) and the operator opens with what it was handed."""
    joined = secret.join(reference, PROFILE)
    act["marketing"].open_journey(
        reference, joined["signer"], bytes.fromhex(joined["profile"][2:]), funder=act["funder"].address
    )
    act["funder"].fund(reference, POOL)
    act["marketing"].complete_step(reference, org="vendor")
    return joined


def request_for(
    act, reference: str, joined: dict[str, str], action: str = "confirm", **kw
) -> CustomerRequest:
    return act["marketing"].customer_request(
        reference, action, joined["signer"], bytes.fromhex(joined["profile"][2:]), **kw
    )


def test_each_journey_has_its_own_key_and_commitment(sdk, secret):
    _, act = sdk
    first, second = open_for(act, secret, "D-1"), open_for(act, secret, "D-2")
    assert first["signer"] != second["signer"] and first["profile"] != second["profile"]
    assert first["commitment"] != second["commitment"]
    assert act["marketing"].customer_of("D-1").hex() == first["commitment"][2:]
    # derived, not stored: the same secret gives the same key again
    assert secret.key_for("D-1").address == first["signer"]
    assert CustomerSecret.create().key_for("D-1").address != first["signer"]


def test_a_request_signed_on_the_device_confirms_value(sdk, secret, tmp_path):
    _, act = sdk
    joined = open_for(act, secret, "D-3")
    act["vendor"].complete_step("D-3")
    request = request_for(act, "D-3", joined)
    file = tmp_path / "request.json"
    file.write_text(request.to_json(), encoding="utf-8")
    assert request.url.startswith("journeychain:sign?request=")
    # on the customer's device: the request file, the secret; back comes a signed document
    received = CustomerRequest.from_dict(json.loads(file.read_text(encoding="utf-8")), str(file))
    signature = sign_request(received, secret.key_for(received.reference))
    back, sig = read_signed(signed_document(received, signature), "signed.json")
    assert recover_signer(back, sig) == joined["signer"]
    receipt = act["marketing"].submit_customer_signature(back, sig)
    assert receipt.events["ValueConfirmed"][0]["customer"] == joined["signer"]
    assert act["marketing"].journey("D-3").status == "value delivered"


def test_a_request_made_before_a_later_step_is_stale(sdk, secret):
    _, act = sdk
    joined = open_for(act, secret, "D-4")
    early = request_for(act, "D-4", joined)  # signed while delivery was still to come
    signature = sign_request(early, secret.key_for("D-4"))
    act["vendor"].complete_step("D-4")
    with pytest.raises(SignatureError, match="as it stood before its latest step"):
        act["marketing"].submit_customer_signature(early, signature)
    assert act["marketing"].journey("D-4").status == "open"


def test_a_signature_by_anyone_else_is_refused_before_anything_is_sent(sdk, secret):
    chain, act = sdk
    joined = open_for(act, secret, "D-5")
    act["vendor"].complete_step("D-5")
    request = request_for(act, "D-5", joined)
    operator_key = CustomerSecret.create().key_for("D-5")  # the operator signing for the customer
    forged = "0x" + bytes(operator_key.sign_message(_signable(request)).signature).hex()
    before = chain.w3.eth.get_transaction_count(act["marketing"].address)
    with pytest.raises(SignatureError, match=r"is not .*'s over this request"):
        act["marketing"].submit_customer_signature(request, forged)
    assert chain.w3.eth.get_transaction_count(act["marketing"].address) == before
    # and the customer's device refuses to sign a request for a key that is not its own
    with pytest.raises(SignatureError, match="not this customer's key"):
        sign_request(request, operator_key)


def test_a_dispute_request_keeps_its_reason_in_the_vault(sdk, secret, tmp_path):
    chain, act = sdk
    joined = open_for(act, secret, "D-6")
    act["vendor"].complete_step("D-6")
    with Vault(tmp_path / "vault.sqlite") as vault:
        request = request_for(
            act, "D-6", joined, "dispute", step="delivered", reason="box was empty", vault=vault
        )
        assert request.statement and request.statement["text"] == "box was empty"
        signature = sign_request(request, secret.key_for("D-6"))
        assert vault.pending_statements(chain.chain_id) == [("0x" + request.journey[2:], 1, "dispute_reason")]
        receipt = act["marketing"].submit_customer_signature(request, signature, vault=vault)
        assert receipt.events["Disputed"][0]["step"] == 1
        assert vault.pending_statements(chain.chain_id) == []
        (kept,) = vault.statements(chain.chain_id, request.journey)
        assert (kept["kind"], kept["text"], kept["status"]) == (
            "dispute_reason",
            "box was empty",
            "confirmed",
        )
        assert kept["commitment"] == request.statement["commitment"]
    assert act["marketing"].journey("D-6").status == "disputed"


def test_a_bad_request_is_refused_with_a_sentence():
    with pytest.raises(ConfigError, match="not a journeychain customer request"):
        CustomerRequest.from_dict({"action": "confirm"}, "x.json")
    with pytest.raises(ConfigError, match="is not JSON"):
        read_signed("{", "signed.json")


def test_the_secret_is_kept_encrypted_and_never_overwritten(tmp_path, secret):
    path = secret.save(tmp_path / "customer.json", "pw")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert secret.secret.hex() not in path.read_text(encoding="utf-8")
    assert CustomerSecret.load(path, "pw") == secret
    with pytest.raises(ConfigError, match="never overwritten"):
        secret.save(path, "pw")


def _signable(request: CustomerRequest):
    from eth_account.messages import encode_typed_data

    return encode_typed_data(full_message=request.typed_data)


def test_a_request_that_says_other_than_it_signs_is_refused(sdk, secret):
    """A device shows the request's readable parts: the operator cannot show one journey, step
    or score and have another signed (nor swap the action's types)."""
    _, act = sdk
    joined = open_for(act, secret, "D-7")
    act["vendor"].complete_step("D-7")
    honest = request_for(act, "D-7", joined, "rate", step="delivered", score=5)
    key = secret.key_for("D-7")
    other = open_for(act, secret, "D-8")
    swapped = CustomerRequest.from_dict(honest.as_dict())
    swapped.typed_data = {**honest.typed_data, "message": {**honest.message, "journeyId": "0x" + "ab" * 32}}
    with pytest.raises(SignatureError, match=r"names journey .* but signs another"):
        sign_request(swapped, key)
    rescored = CustomerRequest.from_dict(honest.as_dict())
    rescored.typed_data = {**honest.typed_data, "message": {**honest.message, "score": 1}}
    with pytest.raises(SignatureError, match="names score 5 but signs 1"):
        sign_request(rescored, key)
    restepped = CustomerRequest.from_dict(honest.as_dict())
    restepped.typed_data = {**honest.typed_data, "message": {**honest.message, "step": 0}}
    with pytest.raises(SignatureError, match="names step 1 but signs step 0"):
        sign_request(restepped, key)
    retyped = CustomerRequest.from_dict(honest.as_dict())
    retyped.typed_data = {**honest.typed_data, "types": {**honest.typed_data["types"], "Rate": []}}
    with pytest.raises(SignatureError, match="types are not journeychain's Rate"):
        sign_request(retyped, key)
    # reading a tampered file refuses it as well
    with pytest.raises(SignatureError, match="but signs another"):
        CustomerRequest.from_dict(swapped.as_dict(), "tampered.json")
    assert other["signer"] != joined["signer"]
    assert "rate on journey D-7" in describe(honest)[0]
