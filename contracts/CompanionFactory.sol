// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Directory} from "./Directory.sol";
import {CustomerVoice} from "./CustomerVoice.sol";
import {Calendars} from "./Calendars.sol";
import {StepRelay} from "./StepRelay.sol";
import {JourneyViews} from "./JourneyViews.sol";
import {IEngineHooks} from "./interfaces/IEngineHooks.sol";
import {IParticipantCopy} from "./interfaces/IParticipantCopy.sol";

/// @title CompanionFactory
/// @notice Deploys an engine's two largest companions, its directory (participants, roles and
/// the rulebook) and its customer voice, for the engine that calls it while it is being
/// constructed. It keeps their creation code out of the engine's own, which the 49,152-byte
/// limit on creation code would otherwise cap. Each companion is bound to its caller: a
/// factory call made by anyone else deploys companions of that caller, of no use to an
/// engine. It also deploys, in its own deployment, the calendars of the one engine it serves
/// (they would take the engine's deployment past a block's 12,000,000 gas), bound to the first
/// engine that asks: one factory per engine. It deploys the step relay too, which the engine and
/// its registry trust as their forwarder (ERC-2771): its address must be known before the
/// engine is. It has no owner.
contract CompanionFactory {
    /// @dev The calendars this factory deployed, for the engine that binds them.
    Calendars private immutable _calendars;

    /// @notice The step relay this factory deployed, for the engine that trusts it.
    StepRelay public immutable relay;

    /// @notice The views extension this factory deployed, which its engine runs by delegatecall.
    JourneyViews public immutable views;

    constructor() {
        Calendars calendars = new Calendars();
        _calendars = calendars;
        relay = new StepRelay();
        views = new JourneyViews(calendars);
    }


    /// @notice The factory's calendars, bound to the calling engine (once: one factory per engine).
    function bindCalendars() external returns (Calendars) {
        _calendars.bind(IEngineHooks(msg.sender));
        return _calendars;
    }

    /// @notice A new directory governing the calling engine.
    /// @param admin The first ADMIN.
    /// @param rulebookHash Hash of the consensus rules' text, version 1.
    function newDirectory(address admin, bytes32 rulebookHash) external returns (Directory) {
        return new Directory(IParticipantCopy(msg.sender), admin, rulebookHash);
    }

    /// @notice A new customer voice relaying to the calling engine.
    function newVoice() external returns (CustomerVoice) {
        return new CustomerVoice(IEngineHooks(msg.sender));
    }
}
