// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IJourneyEngine} from "./interfaces/IJourneyEngine.sol";
import {
    Participant,
    StepConfig,
    PlaybookOptions,
    Status,
    CUSTOMER_ROLE,
    STEP_FUND_GATE,
    STEP_COMMIT,
    CUSTOMER_ENTRY,
    FORFEIT_ENTRY
} from "./JourneyTypes.sol";

/// @title The journey engine's storage
/// @notice Every slot of the engine, declared once, with the read helpers that decode them.
/// The engine's layers (participants, playbooks, journeys, incentives) and its views
/// extension ({JourneyViews}, which the engine runs by delegatecall for the functions it
/// does not have itself) inherit it, so both read the same layout. No other contract the
/// engine is built of declares state: a test checks it.
abstract contract EngineStorage is IJourneyEngine {
    /// @dev Role bits, plus one (0: not a role), of the roles the engine checks itself; the
    /// directory defines the defaults in this order. A playbook step stores the bit plus one
    /// of its role, `_CUSTOMER_BIT` for the customer's.
    uint8 internal constant _ADMIN_BIT = 1;
    uint8 internal constant _VERIFIER_BIT = 6;
    uint8 internal constant _FUNDER_BIT = 7;
    uint8 internal constant _ARBITER_BIT = 8;
    uint8 internal constant _CUSTOMER_BIT = 0xff;

    /// @dev One slot: the rulebook version in force, when it was published and the number
    /// of organisations.
    struct Book {
        uint32 version;
        uint40 publishedAt;
        uint32 organisations;
    }

    /// @dev A journey keeps its step in 4 bits: a playbook has at most 15 steps.
    uint256 internal constant _BPS = 10_000;

    /// @dev Step flag: the pool must be funded before this step completes.
    uint8 internal constant _FUND_GATE = STEP_FUND_GATE;
    /// @dev Step flag: completing this step commits the journey (no cancellation after).
    uint8 internal constant _COMMIT = STEP_COMMIT;

    /// @dev One slot: the author's version, the step count and the options.
    struct PlaybookHeader {
        uint32 version;
        uint8 stepCount;
        PlaybookOptions options;
    }

    /// @dev A payout table entry (32 bits per step): the share in bits 0-13, the penalty
    /// in bits 16-29 (both at most 10,000), and two marks of the customer's step, which
    /// settlement reads from here instead of the step's configuration.
    uint256 internal constant _BPS_MASK = 0x3fff;
    /// @dev Entry mark: the customer's step.
    uint256 internal constant _CUSTOMER_ENTRY = CUSTOMER_ENTRY;
    /// @dev Entry mark: the forfeited penalties go to the customer (the playbook's `penaltyTo`).
    uint256 internal constant _FORFEIT_ENTRY = FORFEIT_ENTRY;


    /// @dev A journey as the code works on it. It is stored in one slot (see {_store}):
    /// the rolling hash (160 bits), the current step's deadline (40), the playbook (16),
    /// the step (4), the status (3), whether an exceptions record exists (1) and the
    /// current step's owner (32): a participant's number, or an organisation's number
    /// with `_ORG` set. A step completion reads and writes this slot and no other slot of
    /// the journey.
    struct Journey {
        bytes20 head;
        uint40 deadline;
        uint16 playbookId;
        uint8 step;
        Status status;
        bool exceptional;
        uint32 owner;
    }

    /// @dev Owner mark: the owner is an organisation, not one participant.
    uint32 internal constant _ORG = 1 << 31;

    /// @dev A journey's customer and escrow, in one slot (128+32+96 bits): read by the
    /// steps that check attestations or funding, by funding and by settlement. `pool` is
    /// the funded amount; it is spent (paid out or refunded) once the journey closes.
    struct Funds {
        bytes16 customer;
        uint32 funder;
        uint96 pool;
    }

    /// @dev What went wrong in a journey, in one slot written only when something does:
    /// breached steps, the step whose current deadline was flagged (plus one; 0: none),
    /// disputed and upheld steps, the step under dispute and since when.
    struct Exceptions {
        uint16 breaches;
        uint8 flagged;
        uint16 disputed;
        uint16 upheld;
        uint8 disputeStep;
        uint40 since;
    }

    /// @dev A funder's standing budget for one playbook, in one slot (96+96+32 bits): the pool
    /// each journey opened under the playbook with this funder draws at its opening, the
    /// tokens the budget holds, and the one organisation whose participants' openings may draw. The engine holds the tokens; only the funder adds or takes them back.
    struct Budget {
        uint96 perJourney;
        uint96 balance;
        uint32 openerOrg;
    }

    /// @dev An attester's newest attestation of a (schema, subject) pair, and how many it made
    /// of the pair (an attestation's uid is keccak256(abi.encode(key, version))): the only
    /// record of it, which its registry writes and a step reads without a call.
    struct AttestationCopy {
        bool exists;
        uint64 expiry;
        bool revoked;
        uint32 version;
    }

    /*//////////////////////////////////////////////////////////////
                           THE ENGINE'S SLOTS
    //////////////////////////////////////////////////////////////*/

    // Every slot below is written by the engine's layers and read, too, by its views extension,
    // which runs over the engine's storage by delegatecall and so never writes one itself: its
    // reads are what the analyser reports as "never initialized" (or as constant).
    // Participants (the directory's copy)
    // slither-disable-next-line uninitialized-state
    mapping(address account => Participant) internal _participants;
    // slither-disable-next-line uninitialized-state
    mapping(uint32 id => address account) internal _accounts;
    // slither-disable-next-line uninitialized-state
    mapping(bytes32 role => uint8 bitPlusOne) internal _roleBits;
    // slither-disable-next-line uninitialized-state
    mapping(uint8 bitPlusOne => bytes32 role) internal _roleIds;
    // slither-disable-next-line uninitialized-state
    Book internal _book;

    // Playbooks
    // slither-disable-next-line uninitialized-state,constable-states
    uint16 internal _playbookCount;
    // slither-disable-next-line uninitialized-state
    mapping(uint16 playbookId => bytes32 name) internal _playbookNames;
    // slither-disable-next-line uninitialized-state
    mapping(uint16 playbookId => PlaybookHeader) internal _playbooks;
    // slither-disable-next-line uninitialized-state
    mapping(uint16 playbookId => mapping(uint256 step => StepConfig)) internal _steps;
    // slither-disable-next-line uninitialized-state
    mapping(uint16 playbookId => mapping(uint256 step => bytes32[] keys)) internal _fields;
    /// @dev Each required attestation's schema with its verifiers' role bit and subject
    /// kind (see `schemaRule`), so that a step checks it without a call.
    // slither-disable-next-line uninitialized-state
    mapping(uint16 playbookId => mapping(uint256 step => bytes32[] rules)) internal _attestationSchemas;
    /// @dev Each step's share and penalty (16 bits each) packed eight steps to a slot, so
    /// that crediting a journey's owners reads one slot instead of one per step.
    // slither-disable-next-line uninitialized-state
    mapping(uint16 playbookId => uint256[2] table) internal _payoutTables;

    // Journeys
    // slither-disable-next-line uninitialized-state
    mapping(bytes32 journeyId => uint256 word) internal _journeys;
    // slither-disable-next-line uninitialized-state
    mapping(bytes32 journeyId => Funds) internal _funds;
    // slither-disable-next-line uninitialized-state
    mapping(bytes32 journeyId => Exceptions) internal _exceptions;
    // slither-disable-next-line uninitialized-state
    mapping(bytes32 key => AttestationCopy) internal _attested;
    // slither-disable-next-line uninitialized-state
    mapping(address account => uint32 count) internal _breachCounts;
    // slither-disable-next-line uninitialized-state
    mapping(uint32 org => uint32 count) internal _orgBreachCounts;

    // Incentives
    /// @dev Each account's credit plus one, once it was ever credited (zero: never): a claim
    /// leaves the slot at 1 rather than clearing it, so the next payout to the account updates
    /// a live slot instead of creating it again.
    // slither-disable-next-line uninitialized-state
    mapping(address account => uint256 creditPlusOne) internal _credits;
    // slither-disable-next-line uninitialized-state
    mapping(address funder => mapping(uint16 playbookId => Budget)) internal _budgets;

    /*//////////////////////////////////////////////////////////////
                              READ HELPERS
    //////////////////////////////////////////////////////////////*/

    function _header(uint16 playbookId) internal view returns (PlaybookHeader memory h) {
        h = _playbooks[playbookId];
        if (h.stepCount == 0) revert UnknownPlaybook(playbookId);
    }

    /// @dev Every read of a step's configuration goes through here.
    function _config(uint16 playbookId, uint256 step) internal view returns (StepConfig memory) {
        return _steps[playbookId][step];
    }

    /// @dev The role id of a role bit plus one.
    function _roleIdOf(uint8 bit) internal view returns (bytes32) {
        return bit == _CUSTOMER_BIT ? CUSTOMER_ROLE : _roleIds[bit];
    }

    function _accountOf(uint32 id) internal view returns (address) {
        return _accounts[id];
    }

    /// @dev The journey, which must exist.
    function _known(bytes32 journeyId) internal view returns (Journey memory j) {
        _decode(_knownWord(journeyId), j);
    }

    /// @dev The journey's slot, which must hold a journey.
    function _knownWord(bytes32 journeyId) internal view returns (uint256 w) {
        w = _journeys[journeyId];
        // slither-disable-next-line incorrect-equality (playbook 0 is never published: it marks a journey never opened)
        if (uint16(w >> 200) == 0) revert UnknownJourney(journeyId);
    }

    /// @dev Every read of a journey's slot goes through here (and {_decode}), and every
    /// write through {_store}: one copy of the packing code. Each loader fills the one
    /// record it returns, so that no copy is allocated on the way.
    function _load(bytes32 journeyId) internal view returns (Journey memory j) {
        _decode(_journeys[journeyId], j);
    }

    function _decode(uint256 w, Journey memory j) internal pure {
        j.head = bytes20(uint160(w));
        j.deadline = uint40(w >> 160);
        j.playbookId = uint16(w >> 200);
        j.step = uint8((w >> 216) & 0x0f);
        j.status = Status((w >> 220) & 0x07);
        j.exceptional = (w >> 223) & 1 != 0;
        j.owner = uint32(w >> 224);
    }

    /// @dev The participant an owner names (zero: an organisation).
    function _ownerAccount(uint32 owner) internal view returns (address) {
        return owner & _ORG != 0 ? address(0) : _accountOf(owner);
    }

    /// @dev The organisation an owner names (zero: a participant).
    function _ownerOrg(uint32 owner) internal pure returns (uint32) {
        return owner & _ORG != 0 ? owner & ~_ORG : 0;
    }

    /// @dev {releaseTime} of a loaded journey.
    function _releaseTime(Journey memory j) internal view returns (uint256) {
        // slither-disable-next-line incorrect-equality (a status compared; a deadline of 0 means none)
        if (j.status != Status.Open || j.deadline == 0) return 0;
        PlaybookHeader memory h = _header(j.playbookId);
        if (h.options.confirmWindow == 0 || j.step != h.stepCount - 1) return 0;
        // The customer's step started `sla` seconds before its deadline; a dispute's
        // hold moves both the deadline and the release by the time it lasted.
        return uint256(j.deadline) - _config(j.playbookId, j.step).sla + h.options.confirmWindow;
    }
}
