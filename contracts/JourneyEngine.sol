// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Participants} from "./Participants.sol";
import {Journeys} from "./Journeys.sol";
import {Incentives} from "./Incentives.sol";
import {CompanionFactory} from "./CompanionFactory.sol";

/// @title JourneyEngine
/// @notice The customer journey as a chain of linked, timed steps: participants and the
/// rulebook, playbooks, journeys and their escrowed incentive pools in one contract, so
/// that a step completion checks its rules with no call to another contract. It deploys
/// its attestation registry and playbook publisher with itself, and has a
/// `CompanionFactory` deploy its directory and its customer voice (which verifies the
/// customer's EIP-712 signatures and relays disputes and ratings), each bound to it. Its one
/// trusted forwarder is the factory's `StepRelay`, which applies participants' signed actions
/// as if each signer had sent them (ERC-2771): every rule reads the actor as `_msgSender()`.
contract JourneyEngine is Incentives {
    /// @param admin The first ADMIN.
    /// @param rulebookHash Hash of the consensus rules' text, version 1.
    /// @param token_ The incentive token the pools hold.
    /// @param factory Deploys the directory and the customer voice.
    constructor(address admin, bytes32 rulebookHash, IERC20 token_, CompanionFactory factory)
        Participants(admin, rulebookHash, factory)
        Journeys(factory)
        Incentives(token_, factory)
    {}
}
