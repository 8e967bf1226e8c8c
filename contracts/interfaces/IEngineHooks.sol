// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Status} from "../JourneyTypes.sol";
import {Calendars} from "../Calendars.sol";

/// @title What the directory offers the signature relay
interface IRulebook {
    /// @notice The rulebook in force.
    function rulebook() external view returns (uint32 version, bytes32 hash);

    /// @notice Whether `role` is defined.
    function isRole(bytes32 role) external view returns (bool);

    /// @notice The bit plus one of a defined role (reverts with UnknownRole for any other).
    function roleBit(bytes32 role) external view returns (uint8);

    /// @notice The relay reports a verified rulebook acceptance.
    function acceptRulebookFor(address account, uint32 version) external;
}

/// @title What the engine offers the attestation registry and the customer voice
interface IEngineHooks {
    /// @notice Reverts unless `account` holds `role` and accepted the rulebook in force.
    /// @return id The account's participant number.
    function checkActor(address account, bytes32 role) external view returns (uint32 id);

    /// @notice A participant's record as the engine checks it (id 0: not a participant, and a
    /// participant is never a customer).
    function participant(address account) external view returns (uint32 id, uint32 accepted, uint32 org);

    /// @notice What a customer's signature is checked against.
    function voiceContext(bytes32 journeyId)
        external
        view
        returns (uint16 playbookId, Status status, bytes16 customer, bytes20 head);

    /// @notice The voice holds the current step's clock for its owner (see the engine).
    function holdClock(bytes32 journeyId, address owner, uint8 reason, uint32 extension)
        external
        returns (uint8 step, uint40 was, uint40 deadline, uint32 left, uint8 calendar);

    /// @notice The voice ends a pause it kept (see the engine).
    function releaseClock(bytes32 journeyId, uint8 step, uint40 held, uint40 deadline, address by, bool asOwner)
        external;

    /// @notice The voice reports a verified dispute of `step`.
    function holdForDispute(bytes32 journeyId, uint8 step, bytes32 reason) external;

    /// @notice The voice ends the open dispute (`arbiter` zero: by the fallback).
    function endDispute(bytes32 journeyId, bool upheld, address arbiter) external;

    /// @notice The voice refunds a journey whose dispute outlived its window.
    function refundDispute(bytes32 journeyId) external;

    /// @notice The journey's open dispute: since when, the arbiter's window, the
    /// playbook's fallback and the journey's funder (who may not arbitrate).
    function disputeWindow(bytes32 journeyId)
        external
        view
        returns (uint40 since, uint32 window, bool refundOnTimeout, address funder);

    /// @notice The registry records an attester's new attestation of a (schema, subject) pair,
    /// or the revocation of its newest, under `key` = keccak256(abi.encode(schema, subject,
    /// attester)): the engine's record is the only one. Returns the record as it was before.
    function recordAttestation(bytes32 key, uint64 expiry, bool revoke)
        external
        returns (bool existed, bool revoked, uint32 version);

    /// @notice An attester's newest attestation of a (schema, subject) pair, under `key`: whether
    /// there is one, its expiry, whether it is revoked, and how many the attester made of the pair.
    function attestationRecord(bytes32 key)
        external
        view
        returns (bool exists, uint64 expiry, bool revoked, uint32 version);

    /// @notice The directory of participants and the rulebook.
    function directory() external view returns (IRulebook);

    /// @notice The working-time calendars the steps' SLAs count by.
    function calendars() external view returns (Calendars);
}
