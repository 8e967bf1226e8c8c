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



    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/


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
