// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Participant} from "../JourneyTypes.sol";

/// @title What the engine offers its directory: the copy of the records a step checks
interface IParticipantCopy {
    /// @notice The directory records a participant's new record.
    /// @param account The participant.
    /// @param record Its number, organisation, accepted rulebook version and role bits.
    function copyParticipant(address account, Participant calldata record) external;

    /// @notice The directory records the rulebook in force and the number of organisations.
    /// @param version The rulebook version in force.
    /// @param publishedAt When it was published.
    /// @param organisations How many organisations are registered.
    function copyBook(uint32 version, uint40 publishedAt, uint32 organisations) external;

    /// @notice The directory records a newly defined role.
    /// @param role The role id.
    /// @param bit Its bit plus one.
    function copyRole(bytes32 role, uint8 bit) external;

    /// @notice The contract that relays signed rulebook acceptances.
    function voice() external view returns (address);
}
