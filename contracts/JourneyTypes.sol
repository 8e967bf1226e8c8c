// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Types shared by the journeychain contracts
/// @notice The roles, statuses and packed records that the engine's modules share.

/// @dev The role of the customer's step. It is never granted: a step owned by it is
/// completed by the journey's customer, by signature.
bytes32 constant CUSTOMER_ROLE = keccak256("CUSTOMER");

/// @dev How long those who accepted the previous rulebook may still act after a new version
/// is published, so that no deadline runs out against a participant who had no chance to accept.
uint256 constant RULEBOOK_GRACE_PERIOD = 7 days;

/// @dev The rulebook rule, for the directory and the engine's copy alike: a participant acts
/// under the version in force, or under the previous one within the grace period of the
/// version in force, published at `publishedAt`.
function rulebookInForce(uint32 accepted, uint32 version, uint40 publishedAt) view returns (bool) {
    // slither-disable-next-line timestamp,incorrect-equality (a grace period is a time; versions compared)
    return accepted == version
        || (accepted != 0 && accepted + 1 == version && block.timestamp <= uint256(publishedAt) + RULEBOOK_GRACE_PERIOD);
}

/// @dev What an organisation is: a unit of the company, or an outside firm.
enum OrgKind {
    Unit,
    Vendor
}

/// @dev A participant's record, in one slot (32+32+32+64 bits): its number, its
/// organisation, the rulebook version it accepted and its role bits (bit b set: it holds
/// the role of bit b; ADMIN is bit 0).
struct Participant {
    uint32 id;
    uint32 org;
    uint32 accepted;
    uint64 roles;
}

/// @dev Where a journey stands.
enum Status {
    None,
    Open,
    Disputed,
    ValueDelivered,
    Expired,
    Cancelled
}

/// @dev Where the penalties forfeited by breaching step owners go.
enum PenaltyTo {
    Funder,
    Customer
}

/// @dev What the engine knows of an attestation for a (schema, subject) pair.
enum AttestationState {
    Missing,
    Valid,
    Expired,
    Revoked,
    Unauthorised
}

/// @dev What a schema's attestations are about: the customer of one journey
/// (keccak256(abi.encode(journeyId, customer commitment)): an attestation about a customer
/// never carries over to another journey that reuses its commitment), the journey (its
/// id), or the step of the journey that requires it (keccak256(abi.encode(journeyId,
/// uint8 step))).
enum Subject {
    Customer,
    Journey,
    Step
}

/// @dev A required attestation as a playbook step keeps it, in one word: the schema's
/// short name (at most 30 bytes) with its verifiers' role bit (plus one) and its subject
/// kind in the last two bytes.
function schemaRule(bytes32 schema, uint8 roleBit, Subject subject) pure returns (bytes32) {
    return schema | bytes32((uint256(roleBit) << 8) | uint256(subject));
}

/// @dev Whom a step's clock is owed to, as service management tells them apart: an SLA
/// (owed to the customer), an OLA (between internal teams) or a UC (an outside vendor's
/// underpinning contract). Reports and timelines group by it; no rule depends on it.
enum SlaType {
    SLA,
    OLA,
    UC
}

/// @dev A step of a playbook, as authored. `sla` is in seconds from the previous
/// step's completion (from the opening of the journey for the first step); 0 means
/// no deadline (allowed only before the commit step). `role` is a role id.
/// `warnBps`: the share of the SLA (in basis points, below 10,000) after which the step
/// is at risk of breaching (0: no warning; only a step with an SLA may warn).
/// `calendar`: the published calendar (see `Calendars`) whose working time the SLA counts
/// (0: wall-clock time); the customer's step counts wall-clock time.
struct StepSpec {
    bytes32 name;
    bytes32 role;
    uint32 sla;
    uint16 shareBps;
    uint16 penaltyBps;
    SlaType slaType;
    uint16 warnBps;
    bytes32[] fields;
    bytes32[] attestations;
    uint8 calendar;
}

/// @dev Options of a playbook that are not per step.
/// `commitStep`: the step whose completion commits the journey (booking). The pool
/// must be funded before it completes when `fundBeforeCommit` is set, and ADMIN may
/// cancel the journey only before it completes.
/// `confirmWindow`: seconds after the customer's step starts within which a silent
/// customer must confirm or dispute; 0 turns optimistic release off.
/// `verifierMayConfirm`: whether a VERIFIER's "value delivered" attestation may
/// stand in for the customer's signature.
/// `disputeWindow`: seconds an ARBITER has to resolve a dispute; past it anyone may close
/// the dispute by the playbook's fallback: the pool refunded to the funder
/// (`refundOnTimeout`) or the dispute rejected.
struct PlaybookOptions {
    uint8 commitStep;
    bool fundBeforeCommit;
    PenaltyTo penaltyTo;
    uint32 confirmWindow;
    bool verifierMayConfirm;
    uint32 disputeWindow;
    bool refundOnTimeout;
}

/// @dev A field supplied with a step: its key and the salted commitment of its value.
struct Field {
    bytes32 key;
    bytes32 commitment;
}

/// @dev A customer's signature over one action, by `signer` (an account, or a contract
/// wallet that answers ERC-1271), with the profile its commitment binds and
/// the journey's rolling hash it was signed over (a signature over an earlier history is
/// stale once another step completes).
struct CustomerSignature {
    address signer;
    bytes32 profile;
    bytes20 history;
    uint32 nonce;
    uint256 deadline;
    bytes signature;
}

/// @dev A customer commitment: the first 16 bytes of keccak256(abi.encode(signer, profile)),
/// where `signer` is the customer's signing address and `profile` a salted profile hash.
function customerCommitment(address signer, bytes32 profile) pure returns (bytes16) {
    return bytes16(keccak256(abi.encode(signer, profile)));
}

/// @dev What a completed step left in the journey's rolling hash; supplied again,
/// and checked against that hash, when value is confirmed.
struct StepRecord {
    address by;
    bool late;
    bytes32 evidence;
}

/// @dev A step's role as its record keeps it: the customer's (never granted).
uint8 constant CUSTOMER_BIT = 0xff;
/// @dev Step flag: the pool must be funded before this step completes.
uint8 constant STEP_FUND_GATE = 1;
/// @dev Step flag: completing this step commits the journey (no cancellation after).
uint8 constant STEP_COMMIT = 2;
/// @dev Payout table entry mark: the customer's step.
uint256 constant CUSTOMER_ENTRY = 1 << 15;
/// @dev Payout table entry mark: the forfeited penalties go to the customer (`penaltyTo`).
uint256 constant FORFEIT_ENTRY = 1 << 31;

/// @dev What a step completion reads, in one slot (8+32+32+8+8+8+8+120+16+8+8 bits).
/// `role` and `nextRole` are role bits plus one (`_CUSTOMER_BIT`: the customer's step).
/// `nextSla` and `nextRole` repeat the next step's SLA and role so that starting it
/// costs no second read; `fieldsHash` is the first 15 bytes of keccak256 of the
/// required field keys in order; `warnBps` the step's warning threshold (see {StepSpec});
/// `calendar` and `nextCalendar` the calendars this step's and the next step's SLAs count
/// working time by (0: wall-clock time).
/// Shares and penalties are in the engine's payout tables. The publisher compiles a
/// playbook's steps into these records; the engine keeps them.
struct StepConfig {
    uint8 role;
    uint32 sla;
    uint32 nextSla;
    uint8 nextRole;
    uint8 fieldCount;
    uint8 attestationCount;
    uint8 flags;
    bytes15 fieldsHash;
    uint16 warnBps;
    uint8 calendar;
    uint8 nextCalendar;
}

