// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Participants} from "./Participants.sol";
import {Journeys} from "./Journeys.sol";

/// @title JourneyEngine
/// @notice The customer journey as a chain of linked, timed steps: participants and the
/// rulebook, playbooks, attestations and journeys in one contract, so that a step
/// completion checks its rules with no call to another contract.
contract JourneyEngine is Journeys {
    /// @param admin The first ADMIN.
    /// @param rulebookHash Hash of the consensus rules' text, version 1.
    constructor(address admin, bytes32 rulebookHash) Participants(admin, rulebookHash) {}
}
