// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Role, Status, StepRecord} from "../JourneyTypes.sol";

/// @title What the engine offers the attestation registry and the customer voice
interface IEngineHooks {
    /// @notice Reverts unless `account` holds `role` and accepted the rulebook in force.
    /// @return id The account's participant number.
    function checkActor(address account, Role role) external view returns (uint32 id);

    /// @notice What a customer's signature is checked against.
    function voiceContext(bytes32 journeyId) external view returns (uint16 playbookId, Status status, bytes16 customer);

    /// @notice The rulebook in force.
    function rulebook() external view returns (uint32 version, bytes32 hash);

    /// @notice Reverts with HistoryMismatch unless `history` matches the journey's rolling hash.
    function checkHistory(bytes32 journeyId, StepRecord[] calldata history) external view;

    /// @notice The voice reports a verified dispute of `step`.
    function holdForDispute(bytes32 journeyId, uint8 step, bytes32 reason) external;

    /// @notice The registry records the newest attestation of a (schema, subject) pair.
    function recordAttestation(bytes32 key, address attester, uint64 expiry, bool revoked) external;

    /// @notice The voice reports a verified rulebook acceptance.
    function acceptRulebookFor(address account, uint32 version) external;
}
