"""EIP-712 messages the customer and participants sign, built as the contracts hash them."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

DOMAIN_NAME = "journeychain"
DOMAIN_VERSION = "1"

TYPES: dict[str, list[dict[str, str]]] = {
    "ConfirmValue": [
        {"name": "journeyId", "type": "bytes32"},
        {"name": "playbookId", "type": "uint16"},
        {"name": "history", "type": "bytes20"},
        {"name": "nonce", "type": "uint32"},
        {"name": "deadline", "type": "uint256"},
    ],
    "Dispute": [
        {"name": "journeyId", "type": "bytes32"},
        {"name": "playbookId", "type": "uint16"},
        {"name": "step", "type": "uint8"},
        {"name": "reason", "type": "bytes32"},
        {"name": "history", "type": "bytes20"},
        {"name": "nonce", "type": "uint32"},
        {"name": "deadline", "type": "uint256"},
    ],
    "Reply": [
        {"name": "journeyId", "type": "bytes32"},
        {"name": "playbookId", "type": "uint16"},
        {"name": "message", "type": "bytes32"},
        {"name": "history", "type": "bytes20"},
        {"name": "nonce", "type": "uint32"},
        {"name": "deadline", "type": "uint256"},
    ],
    "Rate": [
        {"name": "journeyId", "type": "bytes32"},
        {"name": "playbookId", "type": "uint16"},
        {"name": "step", "type": "uint8"},
        {"name": "score", "type": "uint8"},
        {"name": "comment", "type": "bytes32"},
        {"name": "history", "type": "bytes20"},
        {"name": "nonce", "type": "uint32"},
        {"name": "deadline", "type": "uint256"},
    ],
    "AcceptRulebook": [
        {"name": "account", "type": "address"},
        {"name": "version", "type": "uint32"},
        {"name": "rulebook", "type": "bytes32"},
        {"name": "deadline", "type": "uint256"},
    ],
}

#: EIP-2612: the incentive token's permit, under the token's own domain (version "1").
PERMIT_TYPE: list[dict[str, str]] = [
    {"name": "owner", "type": "address"},
    {"name": "spender", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]


#: The step relay's EIP-712 domain (name, version) and its one type: a signed action, the call
#: `signer` would have made to `target` (its calldata `data`), bound to the journey's rolling
#: hash, which names its step (`nonce` 0), or to a one-time nonce of the signer.
RELAY_DOMAIN_NAME = "journeychain relay"
RELAY_DOMAIN_VERSION = "1"
ACTION_TYPE = [
    {"name": "signer", "type": "address"},
    {"name": "target", "type": "address"},
    {"name": "head", "type": "bytes20"},
    {"name": "nonce", "type": "uint64"},
    {"name": "deadline", "type": "uint40"},
    {"name": "data", "type": "bytes"},
]


def relay_action(
    signer: str,
    target: str,
    data: bytes,
    *,
    head: bytes = b"\x00" * 20,
    nonce: int = 0,
    deadline: int,
    signature: bytes = b"",
) -> tuple:
    """The Action struct the step relay takes, in its field order (`signature` empty: unsigned,
    the relayer's own call, or to be signed with `sign_action` and added by `with_signature`)."""
    return (signer, target, bytes(head), nonce, deadline, bytes(data), bytes(signature))


def with_signature(action: tuple, signature: bytes) -> tuple:
    """`action` carrying `signature`."""
    return (*action[:6], bytes(signature))


#: the Action type's hash, from the one definition above (EIP-712's encodeType)
_ACTION_TYPEHASH = keccak(text="Action(" + ",".join(f"{f['type']} {f['name']}" for f in ACTION_TYPE) + ")")
_DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)


@lru_cache(maxsize=64)
def _relay_domain(chain_id: int, relay: str) -> bytes:
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                _DOMAIN_TYPEHASH,
                keccak(text=RELAY_DOMAIN_NAME),
                keccak(text=RELAY_DOMAIN_VERSION),
                chain_id,
                to_checksum_address(relay),
            ],
        )
    )


def action_digest(chain_id: int, relay: str, action: tuple) -> bytes:
    """The EIP-712 digest of a relay Action (see `relay_action`) under the step relay's domain, as
    `StepRelay.hashAction` computes it (hashed here directly: the type is fixed, and a batch signs
    many)."""
    signer, target, head, nonce, deadline, data = action[:6]
    struct = keccak(
        encode(
            ["bytes32", "address", "address", "bytes20", "uint64", "uint40", "bytes32"],
            [_ACTION_TYPEHASH, signer, target, bytes(head), nonce, deadline, keccak(bytes(data))],
        )
    )
    return keccak(b"\x19\x01" + _relay_domain(chain_id, relay) + struct)


def sign_action(private_key: Any, chain_id: int, relay: str, action: tuple, *, compact: bool = True) -> bytes:
    """Sign a relay Action (see `relay_action`) under the step relay's domain: 64 bytes (r, vs:
    EIP-2098, one calldata word fewer than 65) unless `compact` is false (65: r, s, v)."""
    signed = Account.unsafe_sign_hash(action_digest(chain_id, relay, action), private_key)
    r, s, v = signed.r.to_bytes(32, "big"), signed.s, signed.v
    if not compact:
        return r + s.to_bytes(32, "big") + bytes([v])
    return r + (s | ((v - 27) << 255)).to_bytes(32, "big")


def sign_typed(private_key: Any, chain_id: int, voice: str, primary: str, message: dict[str, Any]) -> bytes:
    """Sign one message of `TYPES[primary]` under the customer voice's domain."""
    domain = {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": voice,
    }
    signable = encode_typed_data(
        domain_data=domain, message_types={primary: TYPES[primary]}, message_data=message
    )
    return bytes(Account.sign_message(signable, private_key).signature)


def customer_signature(
    signer: str, profile: bytes, history: bytes, nonce: int, deadline: int, signature: bytes
) -> tuple:
    """The CustomerSignature struct the customer voice takes: the signer (an account, or a
    contract wallet that answers ERC-1271), the profile its commitment binds, the journey's
    rolling hash the customer signed over, the nonce, the deadline and the signature."""
    return (signer, profile, history, nonce, deadline, signature)


def permit_signature(
    private_key: Any,
    *,
    chain_id: int,
    token: str,
    token_name: str,
    owner: str,
    spender: str,
    value: int,
    nonce: int,
    deadline: int,
) -> tuple[int, bytes, bytes]:
    """An EIP-2612 permit of `owner` (whose key this is) letting `spender` move `value` of the
    token at `token`, as the (v, r, s) that `permit` and `fundWithPermit` take."""
    domain = {"name": token_name, "version": "1", "chainId": chain_id, "verifyingContract": token}
    message = {"owner": owner, "spender": spender, "value": value, "nonce": nonce, "deadline": deadline}
    signable = encode_typed_data(
        domain_data=domain, message_types={"Permit": PERMIT_TYPE}, message_data=message
    )
    signed = Account.sign_message(signable, private_key)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")
