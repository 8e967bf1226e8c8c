"""Every custom error the contracts can raise becomes one plain sentence and its rule family."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak

from journeychain.artifacts import load_build
from journeychain.encoding import short_name
from journeychain.errors import (
    ClaimError,
    CompletenessError,
    DeadlineError,
    DisputeError,
    FundingError,
    JourneyError,
    JourneyRuleError,
    PlaybookRuleError,
    RulebookError,
    RuleError,
    SignatureError,
)
from journeychain.reverts import RULES, Context, Decoder

JID = keccak(text="OPP-7")
ADDRESS = "0x" + "ab" * 20
BUILD = load_build()
DECODER = Decoder(BUILD.all_abis())
ERRORS = {e["name"]: e for e in BUILD.all_abis() if e.get("type") == "error"}
ENGINE_ERRORS = sorted(
    {e["name"]
     for name in ("JourneyEngine", "CustomerVoice", "AttestationRegistry", "JourneyToken", "StepRelay")
     for e in BUILD[name].abi if e["type"] == "error"}
)  # fmt: skip


class Known(Context):
    """A context that knows journey OPP-7 runs the default playbook (booking at step 2)."""

    def journey(self, journey_id):
        return "OPP-7" if journey_id == JID else super().journey(journey_id)

    def step(self, journey_id, step):
        return f"step {step} (deal_booked)" if step == 2 else f"step {step}"

    def is_commit_step(self, journey_id, step):
        return step == 2


def revert(name: str, *values) -> bytes:
    types = [i["type"] for i in ERRORS[name]["inputs"]]
    return keccak(text=f"{name}({','.join(types)})")[:4] + encode(types, list(values))


def sample(kind: str):
    if kind == "address":
        return ADDRESS
    if kind == "bytes32":
        return short_name("customer_goals")
    if kind == "bytes20":
        return b"\x11" * 20
    if kind == "bytes4":
        return b"\x12" * 4
    if kind == "string":
        return "journeychain"
    if kind == "bool":
        return True
    if kind.startswith(("uint", "int")):
        return 2
    raise AssertionError(kind)


def test_every_error_the_deployed_contracts_raise_has_a_sentence():
    assert set(ENGINE_ERRORS) <= set(RULES)


@pytest.mark.parametrize("name", ENGINE_ERRORS)
def test_each_error_decodes_into_its_family_with_a_plain_sentence(name):
    values = [sample(i["type"]) for i in ERRORS[name]["inputs"]]
    error = DECODER.decode(revert(name, *values), Known())
    family, _ = RULES[name]
    assert type(error) is family and isinstance(error, RuleError) and isinstance(error, JourneyError)
    assert error.error == name
    message = str(error)
    assert message and "\n" not in message and name not in message
    assert "\\x00" not in message and "b'" not in message


def test_missing_field_at_booking_reads_as_the_rule():
    error = DECODER.decode(revert("MissingField", JID, 2, short_name("customer_goals")), Known())
    assert isinstance(error, CompletenessError)
    assert str(error) == "booking refused: field customer_goals is missing"


def test_a_step_outside_booking_is_named_by_its_playbook_name():
    error = DECODER.decode(revert("NotAssignee", JID, 2, ADDRESS, ADDRESS), Known())
    assert isinstance(error, JourneyRuleError)
    assert "step 2 (deal_booked) of journey OPP-7 is assigned to" in str(error)


def test_an_expired_attestation_says_so():
    error = DECODER.decode(revert("AttestationNotValid", JID, 2, short_name("identity_verified"), 2), Known())
    assert str(error) == "booking refused: attestation identity_verified is expired"


@pytest.mark.parametrize(
    ("name", "values", "family", "words"),
    [
        ("RulebookNotAccepted", (ADDRESS, 0, 1), RulebookError, "has not accepted the rulebook"),
        ("SharesExceedTotal", (10_500,), PlaybookRuleError, "10500 basis points"),
        ("JourneyNotOpen", (JID, 3), JourneyRuleError, "journey OPP-7 is value delivered, not open"),
        ("DeadlineNotPassed", (JID, 1, 0), DeadlineError, "has no deadline"),
        ("PoolNotFunded", (JID, 2), FundingError, "booking refused: the pool of journey OPP-7 is not funded"),
        ("ERC20InsufficientAllowance", (ADDRESS, 0, 10**18), FundingError, "may move 0 JIT, 1 JIT needed"),
        ("StaleNonce", (JID, 0, 1), SignatureError, "carries nonce 0, but journey OPP-7 expects 1"),
        ("NoOpenDispute", (JID,), DisputeError, "journey OPP-7 has no open dispute"),
        ("NothingToClaim", (ADDRESS,), ClaimError, "has nothing to claim"),
    ],
)
def test_each_rule_family_has_its_exception(name, values, family, words):
    error = DECODER.decode(revert(name, *values), Known())
    assert isinstance(error, family) and words in str(error)


def test_unknown_things_are_bad_input_and_refusals_are_not():
    assert DECODER.decode(revert("UnknownPlaybook", 9)).exit_code == 2
    assert DECODER.decode(revert("UnknownJourney", JID)).exit_code == 2
    assert DECODER.decode(revert("ZeroAmount")).exit_code == 3


def test_revert_strings_panics_and_unknown_selectors_still_make_a_sentence():
    reason = keccak(text="Error(string)")[:4] + encode(["string"], ["paused"])
    assert str(DECODER.decode(reason)) == "refused: paused"
    panic = keccak(text="Panic(uint256)")[:4] + encode(["uint256"], [0x11])
    assert str(DECODER.decode(panic)) == "refused: the contract panicked (arithmetic overflow)"
    assert "unknown error 0xdeadbeef" in str(DECODER.decode(bytes.fromhex("deadbeef")))
    assert "without a reason" in str(DECODER.decode(b""))
