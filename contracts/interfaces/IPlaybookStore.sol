// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StepConfig, PlaybookOptions, Subject} from "../JourneyTypes.sol";
import {IRulebook} from "./IEngineHooks.sol";
import {Calendars} from "../Calendars.sol";

/// @title What the engine offers the playbook publisher
interface IPlaybookStore {
    /// @notice Reverts unless `account` holds `role` and accepted the rulebook in force.
    function checkActor(address account, bytes32 role) external view returns (uint32 id);

    /// @notice The directory of participants, roles and the rulebook.
    function directory() external view returns (IRulebook);

    /// @notice The engine keeps a playbook the publisher validated and compiled; returns its number.
    function storePlaybook(
        bytes32 name,
        uint32 version,
        PlaybookOptions calldata options,
        StepConfig[] calldata configs,
        uint256[2] calldata table,
        bytes32[] calldata requirements
    ) external returns (uint16 playbookId);

    /// @notice The calendars a step's SLA may count working time by.
    function calendars() external view returns (Calendars);

    /// @notice The registry whose schemas the engine's steps check attestations of.
    function attestations() external view returns (ISchemas);
}

/// @title The registry's schemas, as the playbook publisher reads them
interface ISchemas {
    /// @notice A registered schema (`role` zero: not registered).
    function schemaOf(bytes32 schema) external view returns (bytes32 role, Subject subject);
}
