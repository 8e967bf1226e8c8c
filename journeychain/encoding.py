"""Names, commitments and hashes, computed exactly as the contracts compute them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from eth_abi import encode
from eth_utils import keccak

from journeychain.errors import ConfigError

ZERO32 = b"\x00" * 32


def short_name(text: str) -> bytes:
    """A field key, schema or name as a bytes32 short string (readable in events)."""
    raw = text.encode("utf-8")
    if not raw or len(raw) > 32:
        raise ConfigError(f"name {text!r} must be 1 to 32 bytes long")
    return raw.ljust(32, b"\x00")


def from_short_name(value: bytes) -> str:
    """The text of a bytes32 short string, or its hex when it is not one."""
    raw = bytes(value).rstrip(b"\x00")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + bytes(value).hex()
    return text if text.isprintable() else "0x" + bytes(value).hex()


def new_salt() -> bytes:
    return os.urandom(32)


def commit(value: str, salt: bytes) -> bytes:
    """The salted commitment of one field's value: keccak256(salt ‖ utf-8 value)."""
    return keccak(salt + value.encode("utf-8"))


def profile_hash(profile: str, salt: bytes) -> bytes:
    """A customer's profile (personal data, kept off chain) as a salted hash."""
    return commit(profile, salt)


def customer_commitment(signer: str, profile: bytes) -> bytes:
    """The journey's customer: the first 16 bytes of keccak256(abi.encode(signer, profile)).

    It binds the customer's signing key to a salted profile hash; the chain sees nothing else.
    """
    return keccak(encode(["address", "bytes32"], [signer, profile]))[:16]


def customer_subject(jid: bytes, commitment: bytes) -> bytes:
    """The attestation subject naming the customer of one journey: keccak256(abi.encode(journeyId,
    bytes16 commitment)). An attestation about a customer never carries over to another journey,
    even one opened with the same commitment."""
    return keccak(encode(["bytes32", "bytes16"], [bytes(jid), bytes(commitment)]))


def step_subject(jid: bytes, step: int) -> bytes:
    """The attestation subject naming one step of one journey: keccak256(abi.encode(id, uint8 step))."""
    return keccak(encode(["bytes32", "uint8"], [bytes(jid), int(step)]))


#: The longest journey reference, in bytes of UTF-8 (a CRM id is far shorter).
MAX_REFERENCE = 128


def journey_id(reference: str) -> bytes:
    """A journey's id from an external reference (a CRM opportunity id, say), or from its
    0x id (0x and 64 hex digits)."""
    if reference.startswith("0x") and len(reference) == 66:
        try:
            return bytes.fromhex(reference[2:])
        except ValueError:
            raise ConfigError(f"{reference!r} is not a journey id (0x and 64 hex digits)") from None
    if not reference:
        raise ConfigError("a journey reference cannot be empty")
    raw = reference.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_REFERENCE:
        raise ConfigError(
            f"a journey reference is at most {MAX_REFERENCE} bytes, not {len(raw)} ({reference[:16]!r}...)"
        )
    if not reference.isprintable():
        raise ConfigError(f"the journey reference {reference!r} holds control characters")
    return keccak(b"journeychain:" + raw)


def field_pairs(fields: Iterable[Any]) -> list[tuple[bytes, bytes]]:
    """A step's fields as (key, commitment) pairs of bytes, from pairs or from a decoded
    `Field[]` (each a tuple or a mapping with `key` and `commitment`)."""
    pairs = []
    for f in fields:
        key, commitment = (f["key"], f["commitment"]) if isinstance(f, Mapping) else f
        pairs.append((bytes(key), bytes(commitment)))
    return pairs


def evidence_hash(fields: Iterable[Any]) -> bytes:
    """A step's evidence hash, as folded into the rolling hash: keccak256(abi.encode(fields))
    of its `Field[]`, given as (key, commitment) pairs in the order sent (see `field_pairs`)."""
    return keccak(encode(["(bytes32,bytes32)[]"], [field_pairs(fields)]))


def genesis_head(jid: bytes, playbook_id: int, customer: bytes) -> bytes:
    """The rolling hash's first link (20 bytes): the journey, its playbook and its customer."""
    return keccak(encode(["bytes32", "uint16", "bytes16"], [jid, playbook_id, bytes(customer)]))[:20]


def next_head(head: bytes, step: int, by: str, late: bool, evidence: bytes) -> bytes:
    """The rolling hash (20 bytes) after a step: the previous hash, the step, its owner, whether it was
    late and its evidence hash."""
    return keccak(
        encode(["bytes20", "uint8", "address", "bool", "bytes32"], [bytes(head), step, by, late, evidence])
    )[:20]


def rolling_head(
    jid: bytes, playbook_id: int, customer: bytes, steps: Iterable[tuple[int, str, bool, bytes]]
) -> bytes:
    """The rolling hash after `steps` (each its number, owner, lateness and evidence hash, in
    the order completed), from the journey's first link: what the engine holds for it."""
    head = genesis_head(jid, playbook_id, customer)
    for step, by, late, evidence in steps:
        head = next_head(head, step, by, late, evidence)
    return head


def attestation_key(schema: bytes, subject: bytes, attester: str) -> bytes:
    """The key of `attester`'s attestations of `schema` about `subject`: keccak256(abi.encode(
    schema, subject, attester)), under which the engine keeps the newest."""
    return keccak(encode(["bytes32", "bytes32", "address"], [bytes(schema), bytes(subject), attester]))


def attestation_uid(schema: bytes, subject: bytes, attester: str, version: int) -> bytes:
    """The uid of `attester`'s `version`th attestation of `schema` about `subject` (1 for the first)."""
    return keccak(encode(["bytes32", "uint32"], [attestation_key(schema, subject, attester), version]))
