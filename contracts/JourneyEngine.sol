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
/// Its read-only functions that no rule depends on live in its views extension (`JourneyViews`),
/// which it runs by delegatecall: its ABI is this contract's and that one's together.
contract JourneyEngine is Incentives {
    /// @notice The views extension the factory deployed: the code of every function the engine
    /// does not have itself, run over the engine's storage (see {fallback}).
    address public immutable views;

    /// @param admin The first ADMIN.
    /// @param rulebookHash Hash of the consensus rules' text, version 1.
    /// @param token_ The incentive token the pools hold.
    /// @param factory Deploys the directory and the customer voice.
    constructor(address admin, bytes32 rulebookHash, IERC20 token_, CompanionFactory factory)
        Participants(admin, rulebookHash, factory)
        Journeys(factory)
        Incentives(token_, factory)
    {
        views = address(factory.views());
    }

    /// @notice Any function the engine does not have itself runs in its views extension
    /// (`JourneyViews`, the factory's), by delegatecall over the engine's storage: a journey's
    /// state, its owner, risk and release times, playbooks, credits, breaches and disputes.
    /// That code writes nothing, calls nothing but the calendars' views and creates nothing,
    /// so no call through here changes the engine's state; a selector it does not know
    /// either reverts with no data. Sends no ether (none is accepted).
    fallback() external {
        address extension = views;
        assembly ("memory-safe") {
            // from the free memory pointer: memory-safe, and never returns to Solidity code
            let ptr := mload(0x40)
            calldatacopy(ptr, 0, calldatasize())
            let ok := delegatecall(gas(), extension, ptr, calldatasize(), 0, 0)
            returndatacopy(ptr, 0, returndatasize())
            if iszero(ok) { revert(ptr, returndatasize()) }
            return(ptr, returndatasize())
        }
    }
}
