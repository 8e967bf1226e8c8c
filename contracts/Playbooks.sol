// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Participants} from "./Participants.sol";
import {
    StepConfig,
    PlaybookOptions,
    CUSTOMER_BIT,
    STEP_FUND_GATE,
    STEP_COMMIT,
    CUSTOMER_ENTRY,
    FORFEIT_ENTRY
} from "./JourneyTypes.sol";
import {PlaybookPublisher} from "./PlaybookPublisher.sol";
import {IPlaybookStore} from "./interfaces/IPlaybookStore.sol";

/// @title Playbooks
/// @notice Published, immutable, numbered templates of a journey: an ordered list of
/// steps, each with an owning role, an SLA, required fields and attestations, a payout
/// share and a breach penalty. The last step is the customer's. A playbook cannot lock a
/// pool: every step from the commit step on has an SLA, the confirmation window ends
/// before the customer's deadline, and every dispute has a window for the arbiter.
abstract contract Playbooks is Participants {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

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

    uint16 private _playbookCount;
    mapping(uint16 playbookId => bytes32 name) private _playbookNames;
    mapping(uint16 playbookId => PlaybookHeader) private _playbooks;
    mapping(uint16 playbookId => mapping(uint256 step => StepConfig)) internal _steps;
    mapping(uint16 playbookId => mapping(uint256 step => bytes32[] keys)) private _fields;
    /// @dev Each required attestation's schema with its verifiers' role bit and subject
    /// kind (see `schemaRule`), so that a step checks it without a call.
    // slither-disable-next-line uninitialized-state (filled by push in storePlaybook)
    mapping(uint16 playbookId => mapping(uint256 step => bytes32[] rules)) internal _attestationSchemas;
    /// @dev A payout table entry (32 bits per step): the share in bits 0-13, the penalty
    /// in bits 16-29 (both at most 10,000), and two marks of the customer's step, which
    /// settlement reads from here instead of the step's configuration.
    uint256 internal constant _BPS_MASK = 0x3fff;
    /// @dev Entry mark: the customer's step.
    uint256 internal constant _CUSTOMER_ENTRY = CUSTOMER_ENTRY;
    /// @dev Entry mark: the forfeited penalties go to the customer (the playbook's `penaltyTo`).
    uint256 internal constant _FORFEIT_ENTRY = FORFEIT_ENTRY;

    /// @dev Each step's share and penalty (16 bits each) packed eight steps to a slot, so
    /// that crediting a journey's owners reads one slot instead of one per step.
    mapping(uint16 playbookId => uint256[2] table) internal _payoutTables;

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice The contract that validates playbooks and has the engine keep them (its
    /// `publishPlaybook` is how ADMIN publishes one).
    PlaybookPublisher public immutable publisher;

    constructor() {
        publisher = new PlaybookPublisher(IPlaybookStore(address(this)));
    }

    /// @notice Keeps a playbook the publisher validated and compiled into the records its
    /// steps read. Only the publisher calls it.
    /// @param name Short name of the playbook.
    /// @param version The author's version number.
    /// @param options Options that are not per step.
    /// @param configs Each step's record, in order (2 to 15, validated).
    /// @param table The payout table (see {_payoutTables}).
    /// @param requirements Each step's required field keys, then its attestation rules, step
    /// after step (the records' counts say how many).
    /// @return playbookId The new playbook's number.
    function storePlaybook(
        bytes32 name,
        uint32 version,
        PlaybookOptions calldata options,
        StepConfig[] calldata configs,
        uint256[2] calldata table,
        bytes32[] calldata requirements
    ) external returns (uint16 playbookId) {
        if (msg.sender != address(publisher)) revert NotPublisher(msg.sender);
        playbookId = ++_playbookCount;
        uint256 at = 0;
        // at most 15 steps and 32 + 32 requirements each (the publisher checked): bounded
        for (uint256 i = 0; i < configs.length; ++i) {
            StepConfig calldata c = configs[i];
            _steps[playbookId][i] = c;
            bytes32[] storage keys = _fields[playbookId][i];
            for (uint256 k = 0; k < c.fieldCount; ++k) {
                keys.push(requirements[at++]);
            }
            bytes32[] storage rules = _attestationSchemas[playbookId][i];
            for (uint256 k = 0; k < c.attestationCount; ++k) {
                rules.push(requirements[at++]);
            }
        }
        _payoutTables[playbookId] = table;
        _playbookNames[playbookId] = name;
        // at most 15 steps (the publisher checked): the cast cannot truncate
        _playbooks[playbookId] = PlaybookHeader({version: version, stepCount: uint8(configs.length), options: options});
    }

    /// @notice A playbook's header.
    /// @param playbookId Its number.
    /// @return name Its short name.
    /// @return version The author's version number.
    /// @return stepCount How many steps it has.
    /// @return options Its options.
    function playbook(uint16 playbookId)
        external
        view
        returns (bytes32 name, uint32 version, uint8 stepCount, PlaybookOptions memory options)
    {
        PlaybookHeader memory h = _header(playbookId);
        return (_playbookNames[playbookId], h.version, h.stepCount, h.options);
    }

    /// @notice The rules of one step of a playbook (its name, fields and attestation
    /// schemas are in the {PlaybookPublished} event).
    /// @param playbookId The playbook's number.
    /// @param index The step's index, from 0.
    /// @return role Its owning role's id.
    /// @return sla Seconds from the previous step's completion (0: no deadline).
    /// @return shareBps Its payout share.
    /// @return penaltyBps Its breach penalty, in basis points of its share.
    /// @return fieldCount How many fields it requires.
    /// @return attestationCount How many attestations it requires.
    function stepRules(uint16 playbookId, uint256 index)
        external
        view
        returns (bytes32 role, uint32 sla, uint16 shareBps, uint16 penaltyBps, uint8 fieldCount, uint8 attestationCount)
    {
        if (index >= _header(playbookId).stepCount) revert StepCountOutOfRange(index);
        StepConfig memory c = _config(playbookId, index);
        uint256 entry = _payoutTables[playbookId][index / 8] >> (32 * (index % 8));
        return (
            _roleIdOf(c.role),
            c.sla,
            uint16(entry & _BPS_MASK),
            uint16((entry >> 16) & _BPS_MASK),
            c.fieldCount,
            c.attestationCount
        );
    }

    /// @notice How many playbooks have been published (their numbers run from 1).
    function playbookCount() external view returns (uint16) {
        return _playbookCount;
    }

    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    function _header(uint16 playbookId) internal view returns (PlaybookHeader memory h) {
        h = _playbooks[playbookId];
        if (h.stepCount == 0) revert UnknownPlaybook(playbookId);
    }

    /// @dev Every read of a step's configuration goes through here.
    function _config(uint16 playbookId, uint256 step) internal view returns (StepConfig memory) {
        return _steps[playbookId][step];
    }

    /// @dev Step `step`'s payout table entry (see {_BPS_MASK}).
    function _payoutEntry(uint16 playbookId, uint256 step) internal view returns (uint256) {
        return _payoutTables[playbookId][step >> 3] >> ((step & 7) << 5);
    }

    function _requiredFields(uint16 playbookId, uint256 step) internal view returns (bytes32[] storage) {
        return _fields[playbookId][step];
    }

    /// @dev Element `i` of a stored array whose length the caller already knows (a
    /// step's counts are in its config): one read instead of two, with no bounds check.
    function _element(bytes32[] storage array, uint256 i) internal view returns (bytes32 value) {
        assembly ("memory-safe") {
            mstore(0, array.slot)
            value := sload(add(keccak256(0, 0x20), i))
        }
    }
}
